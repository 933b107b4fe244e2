/**
 * The lockout checks use the terminal's own lockout settings (docs/protocol.md §13, §16): read
 * them, set small ones so a lock comes in a few attempts and ends in a few seconds, and put them
 * back afterwards (a check that fails leaves that to the RESET before the next one).
 */
import type { Ctx } from '../context.js';
import { expectThat } from '../expect.js';

export interface LockoutValues {
  max?: string;
  seconds?: string;
}

export async function withLockout(
  t: Ctx,
  values: LockoutValues,
  body: (original: Required<LockoutValues>) => Promise<void>,
): Promise<void> {
  const original = { max: await t.get('lockout.max'), seconds: await t.get('lockout.seconds') };
  if (values.seconds !== undefined) await t.set('lockout.seconds', values.seconds);
  if (values.max !== undefined) await t.set('lockout.max', values.max);
  await body(original);
  // An existing login keeps working while locked (§13), so the admin can always put them back.
  await t.set('lockout.max', original.max);
  await t.set('lockout.seconds', original.seconds);
  const now = { max: await t.get('lockout.max'), seconds: await t.get('lockout.seconds') };
  expectThat(
    now.max === original.max && now.seconds === original.seconds,
    '§16: the lockout settings read back as they were set',
    {
      expected: `lockout.max=${original.max} lockout.seconds=${original.seconds}`,
      got: `lockout.max=${now.max} lockout.seconds=${now.seconds}`,
    },
  );
}
