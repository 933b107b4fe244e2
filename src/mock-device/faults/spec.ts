/**
 * The fault grammar of `posbridge mock --fault SPEC` and of the TypeScript API:
 *
 *   spec  = fault *( ";" fault )
 *   fault = name [ ":" param *( "," param ) ]
 *   param = key "=" value
 *
 * e.g. `corrupt:p=0.01;drop:p=0.05;delay:ms=200;silent-after:bytes=4000;reboot-at:n=3`.
 * Spaces around separators are ignored. docs/mock.md describes each fault.
 */
import { MockConfigError } from '../errors.js';
import { isViolation, VIOLATION_NAMES, type Violation } from './violate.js';

export type FaultSpec =
  /** Each outgoing line, with probability p, gets one bit of one byte flipped. */
  | { kind: 'corrupt'; p: number }
  /** Each reply, with probability p, is never sent (the command runs; the reply is kept for replay). */
  | { kind: 'drop'; p: number }
  /** Each reply, with probability p (default 1), waits ms before it goes to the wire. */
  | { kind: 'delay'; ms: number; p: number }
  /** The first connection whose bytes (in `rx`, out `tx`, or both) pass `bytes` is cut off. */
  | { kind: 'silent-after'; bytes: number; direction: 'both' | 'in' | 'out' }
  /** The nth request reboots the terminal mid-command; `execute`: the command has run by then. */
  | { kind: 'reboot-at'; n: number; execute: boolean }
  /** From the nth request, for ms, every request gets 503 busy. */
  | { kind: 'busy'; ms: number; n: number }
  /** Before each outgoing line, with probability p, an `EVT <name> seq=K` nobody asked for. */
  | { kind: 'spurious-evt'; p: number; name: string }
  /** Break one rule of docs/protocol.md on purpose (./violate.ts lists them). */
  | { kind: 'violate'; rule: Violation };

export type FaultKind = FaultSpec['kind'];

interface ParamRule {
  parse(text: string): number | string | boolean | undefined;
  expect: string;
}

const probability: ParamRule = {
  parse: (t) => (/^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$/.test(t) ? Number(t) : undefined),
  expect: 'a probability from 0 to 1',
};
const count = (min: number): ParamRule => ({
  parse: (t) => (/^[0-9]{1,9}$/.test(t) && Number(t) >= min ? Number(t) : undefined),
  expect: `a whole number of at least ${min}`,
});
const flag: ParamRule = {
  parse: (t) =>
    t === '1' || t === 'yes' || t === 'true'
      ? true
      : t === '0' || t === 'no' || t === 'false'
        ? false
        : undefined,
  expect: '1 or 0',
};
const eventName: ParamRule = {
  parse: (t) => (/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(t) ? t : undefined),
  expect: 'a word of letters, digits and - (at most 32)',
};

const violation: ParamRule = {
  parse: (t) => (isViolation(t) ? t : undefined),
  expect: `one of ${VIOLATION_NAMES.join(', ')}`,
};

interface FaultRule {
  params: Record<string, ParamRule>;
  required: string[];
  /** Exactly one of these (silent-after's direction). */
  oneOf?: string[];
  build(values: Record<string, number | string | boolean>): FaultSpec;
  summary: string;
}

export const FAULTS: Record<FaultKind, FaultRule> = {
  corrupt: {
    params: { p: probability },
    required: ['p'],
    build: (v) => ({ kind: 'corrupt', p: v.p as number }),
    summary: 'corrupt:p=P             flip one bit of an outgoing line, probability P per line',
  },
  drop: {
    params: { p: probability },
    required: ['p'],
    build: (v) => ({ kind: 'drop', p: v.p as number }),
    summary: 'drop:p=P                never send a reply (the command still runs), probability P',
  },
  delay: {
    params: { ms: count(0), p: probability },
    required: ['ms'],
    build: (v) => ({ kind: 'delay', ms: v.ms as number, p: (v.p as number | undefined) ?? 1 }),
    summary: 'delay:ms=N[,p=P]        hold replies N ms before sending them',
  },
  'silent-after': {
    params: { bytes: count(0), rx: count(0), tx: count(0) },
    required: [],
    oneOf: ['bytes', 'rx', 'tx'],
    build: (v) => {
      if (v.rx !== undefined) return { kind: 'silent-after', bytes: v.rx as number, direction: 'in' };
      if (v.tx !== undefined) return { kind: 'silent-after', bytes: v.tx as number, direction: 'out' };
      return { kind: 'silent-after', bytes: v.bytes as number, direction: 'both' };
    },
    summary: 'silent-after:bytes=N    pull the cable after N bytes (rx=N: received, tx=N: sent)',
  },
  'reboot-at': {
    params: { n: count(1), exec: flag },
    required: ['n'],
    build: (v) => ({ kind: 'reboot-at', n: v.n as number, execute: (v.exec as boolean | undefined) ?? true }),
    summary: 'reboot-at:n=N[,exec=0]  reboot in the middle of the Nth request, reply never sent',
  },
  busy: {
    params: { ms: count(1), n: count(1) },
    required: ['ms'],
    build: (v) => ({ kind: 'busy', ms: v.ms as number, n: (v.n as number | undefined) ?? 1 }),
    summary: 'busy:ms=N[,n=K]         from the Kth request on, answer 503 busy for N ms',
  },
  'spurious-evt': {
    params: { p: probability, name: eventName },
    required: ['p'],
    build: (v) => ({
      kind: 'spurious-evt',
      p: v.p as number,
      name: (v.name as string | undefined) ?? 'noise',
    }),
    summary: 'spurious-evt:p=P[,name=W]  an unsolicited EVT W before a line, probability P',
  },
  violate: {
    params: { rule: violation },
    required: ['rule'],
    build: (v) => ({ kind: 'violate', rule: v.rule as Violation }),
    summary: 'violate:rule=NAME       break one rule of docs/protocol.md on purpose (testing hosts)',
  },
};

export const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[];

/** Parses a fault spec; throws a MockConfigError naming the bad part. An empty spec has no fault. */
export function parseFaultSpec(spec: string): FaultSpec[] {
  const faults: FaultSpec[] = [];
  for (const part of spec.split(';')) {
    const text = part.trim();
    if (text === '') continue;
    faults.push(parseFault(text));
  }
  return faults;
}

function parseFault(text: string): FaultSpec {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const error = (problem: string) => new MockConfigError(`fault "${clip(text)}": ${problem}`);
  if (!Object.hasOwn(FAULTS, name)) {
    throw error(`unknown fault "${clip(name)}" (known: ${FAULT_KINDS.join(', ')})`);
  }
  const rule = FAULTS[name as FaultKind];
  const values: Record<string, number | string | boolean> = {};
  const paramText = colon < 0 ? '' : text.slice(colon + 1);
  for (const param of paramText.split(',')) {
    const item = param.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw error(`"${clip(item)}" is not key=value`);
    const key = item.slice(0, eq).trim();
    const raw = item.slice(eq + 1).trim();
    const paramRule = Object.hasOwn(rule.params, key) ? rule.params[key] : undefined;
    if (!paramRule)
      throw error(`unknown parameter "${clip(key)}" (known: ${Object.keys(rule.params).join(', ')})`);
    if (Object.hasOwn(values, key)) throw error(`parameter ${key} given twice`);
    const value = paramRule.parse(raw);
    if (value === undefined) throw error(`${key}=${clip(raw)} is not ${paramRule.expect}`);
    values[key] = value;
  }
  for (const key of rule.required) if (!Object.hasOwn(values, key)) throw error(`needs ${key}=`);
  if (rule.oneOf) {
    const given = rule.oneOf.filter((key) => Object.hasOwn(values, key));
    if (given.length !== 1) throw error(`needs exactly one of ${rule.oneOf.map((k) => `${k}=`).join(', ')}`);
  }
  return rule.build(values);
}

/** The spec back as text (for logs and the fault's behaviour name). */
export function formatFault(fault: FaultSpec): string {
  switch (fault.kind) {
    case 'corrupt':
    case 'drop':
      return `${fault.kind}:p=${fault.p}`;
    case 'delay':
      return `delay:ms=${fault.ms}${fault.p === 1 ? '' : `,p=${fault.p}`}`;
    case 'silent-after': {
      const key = fault.direction === 'in' ? 'rx' : fault.direction === 'out' ? 'tx' : 'bytes';
      return `silent-after:${key}=${fault.bytes}`;
    }
    case 'reboot-at':
      return `reboot-at:n=${fault.n}${fault.execute ? '' : ',exec=0'}`;
    case 'busy':
      return `busy:ms=${fault.ms}${fault.n === 1 ? '' : `,n=${fault.n}`}`;
    case 'spurious-evt':
      return `spurious-evt:p=${fault.p}${fault.name === 'noise' ? '' : `,name=${fault.name}`}`;
    case 'violate':
      return `violate:rule=${fault.rule}`;
  }
}

/** Checks a FaultSpec built in TypeScript (not parsed) against the same rules. */
export function validateFault(fault: FaultSpec): FaultSpec {
  const reparsed = parseFaultSpec(formatFault(fault));
  if (reparsed.length !== 1) throw new MockConfigError(`fault ${formatFault(fault)}: invalid`);
  return reparsed[0]!;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
