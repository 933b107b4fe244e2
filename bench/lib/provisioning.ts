/**
 * The provisioning every benchmark runs: a fixed profile (four settings, one of them already at its
 * factory value, and two operators), fixed numbers and passwords, and seeded randomness so that
 * every run sends the same bytes.
 */
import { type Connector, LocalEngine } from '../../src/host/engine.js';
import { Secret } from '../../src/host/secret.js';
import { type Profile, profileSchema } from '../../src/host/workflow/profile.js';
import type { ProvisionRequest } from '../../src/host/workflow/provision.js';
import type { ProvisionReport } from '../../src/host/workflow/report.js';

export const BENCH_PROFILE: Profile = profileSchema.parse({
  settings: {
    'net.mode': 'eth',
    'host.addr': 'pos-gw.acquirer.example',
    'host.port': 8443,
    'support.phone': '+86-400-555-0100',
  },
  operators: [
    { id: '02', name: 'Cashier', perms: ['sale', 'query'] },
    { id: '03', name: 'Supervisor', perms: ['sale', 'refund', 'query', 'report'] },
  ],
});

export const ADMIN_PASSWORD = 'Bench-Admin-2024';

export function provisionRequest(port: string, index = 0): ProvisionRequest {
  return {
    port,
    merchant: '104110000000001',
    terminal: String(10000001 + index).padStart(8, '0'),
    name: 'Bench Shop',
    adminPassword: new Secret(ADMIN_PASSWORD),
    profile: BENCH_PROFILE,
    technician: 'bench',
    station: 'bench',
  };
}

/** A deterministic byte source (xorshift32): generated operator passwords are the same every run. */
export function seededBytes(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/** A deterministic RandomSource for the session's first request ID. */
export function seededRandom(seed: number): () => number {
  const bytes = seededBytes(seed);
  return () => {
    const b = bytes(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
  };
}

export function engineFor(connect: Connector, seed = 1): LocalEngine {
  return new LocalEngine({ connect, now: () => new Date(), randomBytes: seededBytes(seed) });
}

/** Throws unless the run provisioned the terminal: a benchmark of a failed run measures nothing. */
export function assertProvisioned(report: ProvisionReport): void {
  if (report.outcome !== 'provisioned') {
    throw new Error(`provisioning ended ${report.outcome}: ${JSON.stringify(report.error ?? report.steps)}`);
  }
}
