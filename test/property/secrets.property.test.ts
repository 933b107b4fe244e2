/**
 * Secrets never echo (issue 9, item 5), for random passwords and random line shapes: the forms a
 * person types for a login or a password change (`login admin PW`, `LOGIN user=admin
 * password=PW`, `passwd=`, `pass=`, `pw=`, `pwd=`, `old=`, `new=`, `confirm=`, `admin:PW`,
 * `password PW`, mistyped verbs), with or without an ID and a CRC.
 *
 * - maskLine leaves no part of the password;
 * - `posbridge console` shows, keeps (history) and traces none of it;
 * - the mock terminal's replies quote none of it, logged in or not.
 *
 * Every word of a generated password starts with MARK, and no other generated text holds it, so
 * "the output does not contain MARK" means no word of the password came back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MockHarness } from '../../src/mock-device/index.js';
import { appendCrc, maskLine } from '../../src/protocol/index.js';
import { CliHarness } from '../support/cli-inproc.js';

const MARK = 'QZJ';
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) };

/** Printable ASCII but the space (words are joined by spaces). */
const wordChar = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const passwordArb = fc
  .array(fc.string({ unit: wordChar, minLength: 2, maxLength: 12 }), { minLength: 1, maxLength: 3 })
  .map((words) => words.map((w) => `${MARK}${w}`).join(' '));

/** A quoted TSP/1 value holding `pw` exactly. */
const quoted = (pw: string) => `"${pw.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

const SHAPES: ReadonlyArray<(pw: string) => string> = [
  (pw) => `login admin ${pw}`,
  (pw) => `LOGIN admin ${pw}`,
  (pw) => `LOGIN ${pw}`,
  (pw) => `LOGIN user=admin password=${pw}`,
  (pw) => `LOGIN user=admin password=${quoted(pw)}`,
  (pw) => `LOGIN user=admin ${pw}`,
  (pw) => `LOGIN user=admin passwd=${pw}`,
  (pw) => `login user=admin pass=${pw}`,
  (pw) => `LOGIN user=admin pw=${pw}`,
  (pw) => `LOGIN user=admin pwd=${pw}`,
  (pw) => `LOGIN user=admin PASSWORD=${pw}`,
  (pw) => `PASSWD old=${pw} new=Other-Pass7`,
  (pw) => `PASSWD old=1234 new=${quoted(pw)} confirm=${quoted(pw)}`,
  (pw) => `passwd old=1234 new=${pw} confirm=${pw}`,
  (pw) => `PASSWD user=02 new=${pw}`,
  (pw) => `passwd ${pw}`,
  (pw) => `admin:${pw}`,
  (pw) => `login admin:${pw}`,
  (pw) => `LOGIN user=admin:${pw}`,
  (pw) => `password ${pw}`,
  (pw) => `login admin password ${pw}`,
  (pw) => `LGOIN user=admin password=${pw}`,
  (pw) => `LOGN admin ${pw}`,
  (pw) => `loign user=admin password=${quoted(pw)}`,
  (pw) => `PASWD old=${pw} new=x`,
  (pw) => `USER-ADD id=02 name=Ann perms=sale password=${pw}`,
  (pw) => `USER-ADD id=02 name=Ann perms=sale ${pw}`,
];

const lineArb = fc.record({
  pw: passwordArb,
  shape: fc.constantFrom(...SHAPES),
  id: fc.option(fc.integer({ min: 1, max: 99_999_999 }), { nil: undefined }),
  crc: fc.boolean(),
  spaces: fc.boolean(),
});

interface LineInput {
  pw: string;
  shape: (pw: string) => string;
  id: number | undefined;
  crc: boolean;
  spaces: boolean;
}

function render({ pw, shape, id, crc, spaces }: LineInput): string {
  let line = shape(pw);
  if (spaces) line = `  ${line.replaceAll(' ', '   ')} `;
  if (id !== undefined) line = `@${id} ${line.trim()}`;
  return crc ? appendCrc(line) : line;
}

describe('secrets never echo', () => {
  it('maskLine leaves no word of the password, whatever the line shape', () => {
    fc.assert(
      fc.property(lineArb, (input) => {
        expect(maskLine(render(input))).not.toContain(MARK);
      }),
      RUNS,
    );
  });

  it("the mock terminal's replies never quote a word of the password, logged in or not", () => {
    fc.assert(
      fc.property(lineArb, fc.boolean(), (input, loggedIn) => {
        const host = new MockHarness().connect();
        if (loggedIn) host.send('LOGIN user=admin password=1234');
        const replies = host.write(`${render(input)}\r\n`);
        expect(replies.length).toBeGreaterThan(0);
        for (const reply of replies) expect(reply).not.toContain(MARK);
      }),
      RUNS,
    );
  });

  describe('posbridge console', () => {
    const cli = new CliHarness();
    afterAll(() => cli.dispose());
    const trace = join(cli.dir, 'console.trace');
    const history = join(cli.dir, 'state', 'posbridge', 'console_history');

    it('shows, keeps and traces no word of the password', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 6 }), async (inputs) => {
          // The console adds its own ID and CRC; a typed one stays as typed.
          const typed = inputs.map(render).join('\n');
          const run = await cli.run(['console', '--port', 'mock://p', '--trace', trace], `${typed}\n`);
          expect(run.code, run.stderr).toBe(0);
          for (const text of [
            run.stdout,
            run.stderr,
            readFileSync(history, 'utf8'),
            readFileSync(trace, 'utf8'),
          ])
            expect(text).not.toContain(MARK);
        }),
        { numRuns: Math.max(10, Math.round(RUNS.numRuns / 5)) },
      );
    });
  });
});
