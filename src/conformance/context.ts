/**
 * What a check gets: the probe (raw requests and replies), the terminal's identity, the
 * passwords the suite knows, and the few steps many checks share. A check that changes the
 * admin password says so (`adminPassword`), so the RESET before the next check can log in.
 */
import type { ValueInput } from '../protocol/index.js';
import { type ExpectedFields, expectOk } from './expect.js';
import type { TspLine } from './lines.js';
import { type LineOptions, Probe, type ProbeExchange, type ProbeFields, type ProbeOptions } from './probe.js';
import { FACTORY_ADMIN_PASSWORD } from './spec.js';
import type { RawWire } from './wire.js';

export interface Identity {
  model: string;
  sn: string;
  fw: string;
}

export interface CtxOptions extends ProbeOptions {
  /** Reply timeout for DIAG, per line (each DATA line restarts it). */
  diagTimeoutMs: number;
  /** How long a REBOOT may keep the terminal down before EVT boot. */
  rebootTimeoutMs: number;
  /** The computer's clock, ms since the epoch (TIME is set from it, §15 TIME: hosts never send another). */
  now(): number;
}

export class Ctx extends Probe {
  identity: Identity = { model: '', sn: '', fw: '' };
  /** How long the last REBOOT kept the terminal away (OK to EVT boot), ms, once one was seen. */
  lastRebootMs: number | undefined;
  /** The admin password the terminal holds now, as far as the suite knows. */
  adminPassword: string = FACTORY_ADMIN_PASSWORD;

  constructor(
    wire: RawWire,
    readonly config: CtxOptions,
  ) {
    super(wire, config);
  }

  get sn(): string {
    return this.identity.sn;
  }

  /** Sends a request and requires `OK` (a step on the way to what the check tests). */
  async ok(
    verb: string,
    fields: ProbeFields = [],
    expected: ExpectedFields = {},
    options: LineOptions = {},
  ): Promise<TspLine> {
    const x = await this.request(verb, fields, options);
    return expectOk(x, expected, verb);
  }

  /** STATUS, required to answer OK; its fields. */
  async status(): Promise<Record<string, string>> {
    return (await this.ok('STATUS')).fields;
  }

  /** LOGIN as the admin with the password the suite knows it holds. */
  async loginAdmin(): Promise<TspLine> {
    return this.ok('LOGIN', [
      ['user', 'admin'],
      ['password', this.adminPassword],
    ]);
  }

  /** GET, required to answer OK; the value as text. */
  async get(key: string): Promise<string> {
    return (await this.ok('GET', [['key', key]], { key })).fields.value ?? '';
  }

  /** SET, required to answer OK. */
  async set(key: string, value: ValueInput): Promise<TspLine> {
    return this.ok('SET', [
      ['key', key],
      ['value', value],
    ]);
  }

  /** DIAG with the DIAG timeout. */
  diag(fields: ProbeFields = [], options: LineOptions = {}): Promise<ProbeExchange> {
    return this.request('DIAG', fields, { ...options, timeoutMs: this.config.diagTimeoutMs });
  }

  /** The computer's clock as TIME writes it, whole seconds, clamped to the range hosts may send (D48). */
  utcNow(offsetMs = 0): string {
    const min = Date.UTC(2000, 0, 1);
    const max = Date.UTC(2099, 11, 31, 23, 59, 59);
    const ms = Math.min(Math.max(this.config.now() + offsetMs, min), max);
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }
}
