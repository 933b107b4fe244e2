/**
 * What one soak seed runs against: a seeded random mix of line faults (docs/mock.md grammar) and a
 * provisioning profile. Everything here is a pure function of the seed, so a failure replays with
 * SOAK_SEED=N SOAK_RUNS=1, and the mix is printable as `posbridge mock --fault SPEC --seed N`.
 */
import {
  createRandom,
  type FaultKind,
  type FaultSpec,
  formatFault,
  type Random,
} from '../../src/mock-device/index.js';

/**
 * The faults of a line and a device, which a conforming terminal meets too: every fault of the
 * mock but `violate` (a terminal that breaks the protocol, which no host can be expected to fix).
 */
type LineFault = Exclude<FaultKind, 'violate'>;

/** Every kind the soak injects (all of the mock's line and device faults). */
export const SOAK_FAULT_KINDS: readonly LineFault[] = [
  'corrupt',
  'drop',
  'delay',
  'silent-after',
  'reboot-at',
  'busy',
  'spurious-evt',
];

import { MERCHANT, SETTLE_ACCOUNT, TERMINAL } from '../support/constants.js';

export { MERCHANT, SETTLE_ACCOUNT, TERMINAL };
/** The soak's own admin password, so a soak failure's records are told apart from a workflow test's. */
export const ADMIN_PW = 'Soak-Adm1n-Pw!';
/** Operator 03's first password comes from this environment variable (profile `password: {env}`). */
export const OPERATOR_03_ENV = 'POSBRIDGE_SOAK_OP03';
export const OPERATOR_03_PW = 'Op03-Soak-Pw?';

export interface ProfileDocument {
  settings?: Record<string, string | number>;
  operators?: Array<{
    id: string;
    name: string;
    perms: string[];
    password?: 'generate' | { env: string };
  }>;
  factoryOperator?: 'replace-password' | 'delete';
}

const SETTINGS = {
  'net.mode': 'wifi',
  'net.wifi.ssid': 'Shop Floor 2',
  'host.addr': 'pos.acquirer.example',
  'host.port': 8443,
  'support.phone': '+86-21-5555-0100',
  'settle.account': SETTLE_ACCOUNT,
};

/** The profiles a seed picks from: each changes every account and most of the terminal. */
export const PROFILES: Record<string, ProfileDocument> = {
  /** Settings, two new operators (one generated, one from the environment), 01 gets a new password. */
  full: {
    settings: SETTINGS,
    operators: [
      { id: '02', name: 'Cashier Li', perms: ['query', 'sale'] },
      {
        id: '03',
        name: 'Supervisor Wang',
        perms: ['sale', 'refund', 'query', 'report'],
        password: { env: OPERATOR_03_ENV },
      },
    ],
  },
  /** The same, but the factory operator 01 is deleted. */
  'delete-01': {
    settings: SETTINGS,
    operators: [{ id: '02', name: 'Cashier Li', perms: ['query', 'sale'] }],
    factoryOperator: 'delete',
  },
  /** Operator 01 is listed: renamed, fewer permissions, the profile's password (generated). */
  'keep-01': {
    settings: { 'host.addr': '10.20.30.40', 'host.port': 9000 },
    operators: [
      { id: '01', name: 'Head cashier', perms: ['refund', 'sale'] },
      { id: '04', name: 'Night shift', perms: ['sale'] },
    ],
  },
  /** No profile file at all: numbers, admin password, clock, operator 01 replaced. */
  none: {},
};

export interface SoakMix {
  seed: number;
  faults: FaultSpec[];
  /** `corrupt:p=0.02;reboot-at:n=17` (for `posbridge mock --fault`). */
  spec: string;
  profile: keyof typeof PROFILES;
  /** `--name` given to provision. */
  name?: string;
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)]!;
}

function between(random: Random, min: number, max: number): number {
  return min + random.int(max - min + 1);
}

function harshnessFromEnv(): number {
  const text = process.env.SOAK_HARSHNESS;
  const value = text === undefined || text === '' ? 1 : Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`SOAK_HARSHNESS must be a positive number, not "${text}"`);
  return value;
}

/** A probability with three decimals in [min, max]. */
function drawProbability(random: Random, min: number, max: number): number {
  return Math.round((min + random.next() * (max - min)) * 1000) / 1000;
}

/**
 * The faults of one seed. Each kind is drawn on its own, so a seed may carry several faults at
 * once; a seed with none gets one. A full provisioning is ~45 requests and ~5 KB both ways, so:
 * reboot-at at request 1-70 (in the first run or, past its end, in a rerun), a cable pulled after
 * 0.1-7 KB (sometimes never: the run was shorter), busy spells of at most 300 ms, delays of at
 * most 300 ms on a few replies (past the soak's reply timeout: retransmission with a reply still
 * under way), and line noise, drops and spurious events at rates that keep firing on every rerun.
 */
export function soakMix(seed: number, harshness = harshnessFromEnv()): SoakMix {
  const random = createRandom(seed ^ 0x50a4c0de);
  // SOAK_HARSHNESS=K multiplies the rates of the random faults (capped at 0.5): a rougher line
  // for exploring; the default mix is K=1, the one whose seeds the findings name.
  const probability = (r: Random, min: number, max: number) =>
    Math.min(0.5, Math.round(drawProbability(r, min, max) * harshness * 1000) / 1000);
  const faults: FaultSpec[] = [];
  const draw = (kind: LineFault): FaultSpec => {
    switch (kind) {
      case 'corrupt':
        return { kind, p: probability(random, 0.003, 0.04) };
      case 'drop':
        return { kind, p: probability(random, 0.005, 0.06) };
      case 'delay':
        return { kind, ms: between(random, 20, 300), p: probability(random, 0.02, 0.12) };
      case 'silent-after':
        return {
          kind,
          bytes: between(random, 100, 7000),
          direction: pick(random, ['both', 'both', 'in', 'out'] as const),
        };
      case 'reboot-at':
        return { kind, n: between(random, 1, 70), execute: random.chance(0.7) };
      case 'busy':
        return { kind, ms: between(random, 30, 300), n: between(random, 1, 60) };
      case 'spurious-evt':
        return { kind, p: probability(random, 0.01, 0.15), name: 'noise' };
    }
  };
  const chance: Record<LineFault, number> = {
    corrupt: 0.45,
    drop: 0.45,
    delay: 0.25,
    'silent-after': 0.35,
    'reboot-at': 0.45,
    busy: 0.3,
    'spurious-evt': 0.35,
  };
  for (const kind of SOAK_FAULT_KINDS) if (random.chance(chance[kind])) faults.push(draw(kind));
  // A second reboot now and then: two brown-outs in one job.
  if (random.chance(0.15)) faults.push(draw('reboot-at'));
  if (faults.length === 0) faults.push(draw(pick(random, SOAK_FAULT_KINDS)));
  const profile = pick(random, Object.keys(PROFILES)) as keyof typeof PROFILES;
  const name = random.chance(0.5)
    ? pick(random, ['Shop 17', 'Caf\u00e9 Lumi\u00e8re', 'Kiosk-B'])
    : undefined;
  return {
    seed,
    faults,
    spec: faults.map(formatFault).join(';'),
    profile,
    ...(name !== undefined && { name }),
  };
}
