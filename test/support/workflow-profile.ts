/**
 * Provisioning profiles for the workflow tests, written as a technician would write them (JSON or
 * YAML files), and what a terminal provisioned with them must hold.
 */
import { writeFile } from 'node:fs/promises';
import { stringify as toYaml } from 'yaml';
import { SETTLE_ACCOUNT } from './workflow-rig.js';

/** The env variable the full profile names for operator 03's first password, and its value. */
export const OPERATOR_03_ENV = 'POSBRIDGE_TEST_OP03_PASSWORD';
export const OPERATOR_03_PW = 'Op03-Xk7-Secret?';

export interface ProfileDocument {
  settings?: Record<string, string | number>;
  operators?: Array<{
    id: string;
    name: string;
    perms: string[];
    password?: 'generate' | { env: string } | { file: string };
  }>;
  factoryOperator?: 'replace-password' | 'delete';
  setClock?: boolean;
  diagChecks?: string[];
}

/** Settings, two new operators (one generated, one from the environment), operator 01 replaced. */
export const FULL_PROFILE: ProfileDocument = {
  settings: {
    'net.mode': 'wifi',
    'net.wifi.ssid': 'Shop Floor 2',
    'host.addr': 'pos.acquirer.example',
    'host.port': 8443,
    'support.phone': '+86-21-5555-0100',
    'settle.account': SETTLE_ACCOUNT,
  },
  operators: [
    { id: '02', name: 'Cashier Li', perms: ['query', 'sale'] },
    {
      id: '03',
      name: 'Supervisor Wang',
      perms: ['sale', 'refund', 'query', 'report'],
      password: { env: OPERATOR_03_ENV },
    },
  ],
};

/** The same, but the factory operator 01 is deleted rather than given a new password. */
export const DELETE_01_PROFILE: ProfileDocument = { ...FULL_PROFILE, factoryOperator: 'delete' };

/** Writes `profile` to `path` as JSON, or as YAML when the name ends in .yaml/.yml. */
export async function writeProfile(path: string, profile: ProfileDocument): Promise<string> {
  const text = /\.ya?ml$/.test(path) ? toYaml(profile) : JSON.stringify(profile, null, 2);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** The env a run of FULL_PROFILE needs. */
export const FULL_PROFILE_ENV = { [OPERATOR_03_ENV]: OPERATOR_03_PW };
