/** How `provision` runs (provision.ts: its contract): the workflow (src/host/workflow/provision.ts). */
import { PosbridgeError } from '../errors.js';
import { generatePassword } from '../workflow/generate-password.js';
import type { Profile } from '../workflow/profile.js';
import { provision as runProvision } from '../workflow/provision.js';
import type { RunOf } from './operation.js';
import type { provision } from './provision.js';

export const provisionRun: RunOf<typeof provision> = {
  port: ({ request }) => request.port,
  needsStream: ({ request }) =>
    mayGenerate(request.profile)
      ? 'this provisioning may generate operator passwords (the profile says generate, or the factory operator 01 gets a new one), which are handed over on an event stream only'
      : undefined,
  run({ request, operatorPasswords }, { terminal, now, randomBytes, on }) {
    const { generated } = on;
    return runProvision(terminal, request, {
      now,
      onStep: on.step,
      onCheck: on.check,
      onIdentified: on.identified,
      recordGenerated: generated && ((id, password) => generated({ id, password })),
      operatorPassword: async ({ id, source }) => {
        if (source === 'generate') return generatePassword(randomBytes);
        const given = operatorPasswords?.[id];
        if (given === undefined)
          throw new PosbridgeError('USAGE', `no password was given for operator ${id}`, {
            hint: 'send it in operatorPasswords, or let the profile generate it',
          });
        if (given instanceof Error) throw given;
        return given;
      },
    });
  },
};

/** Whether a run with this profile could need a generated operator password. */
function mayGenerate(profile: Profile): boolean {
  if (profile.operators.some((o) => o.password === 'generate')) return true;
  const listed01 = profile.operators.find((o) => o.id === '01');
  return !listed01 && profile.factoryOperator === 'replace-password';
}
