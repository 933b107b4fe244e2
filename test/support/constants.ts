/**
 * The values tests share, defined once: the numbers a terminal is provisioned with, the passwords
 * tests give it, a silent logger, and the bounds of the slow tests. Import them from here; a test
 * that needs a value of its own (a different password on purpose) says why beside it.
 */
import { pino } from 'pino';

/** The merchant and terminal numbers every provisioning test binds. */
export const MERCHANT = '822100052110023';
export const TERMINAL = '10023456';

/** The admin password the in-process workflow and API rigs set. */
export const ADMIN_PW = 'Zq8-Adm1n-Secret!';
/** The admin password of the CLI-level rigs (cli-inproc, station): kept as transcripts record it. */
export const ADMIN_PASSWORD = 'Adm1n-2026';
/** A password that is not the terminal's (a wrong guess). */
export const OTHER_PW = 'Wrong-Guess-77x';
/** A password typed at the console (never echoed, never in history). */
export const CONSOLE_PW = 'Qz7-Secret';
/** The settlement account: write-only on the terminal, masked everywhere else. */
export const SETTLE_ACCOUNT = '6222020200112233445';

/** Printable ASCII, as docs/protocol.md §5 allows in a line. */
export const PRINTABLE = /^[\x20-\x7e]*$/;
/** U+2060 WORD JOINER: what a CSV cell starting with a formula character gets in front. */
export const WORD_JOINER = '\u2060';

/** A pino logger that writes nothing (the host side's; the mock's is src/mock-device silentLogger). */
export const silentLogger = pino({ level: 'silent' });

/** The bound of an end-to-end test that spawns processes (a loaded 2-core machine). */
export const E2E_TIMEOUT_MS = 180_000;
/** The bound of a shorter end-to-end test. */
export const E2E_SHORT_TIMEOUT_MS = 120_000;

/**
 * `provision --port P --merchant M --terminal T --admin-password-stdin --credentials-out FILE`:
 * the command line every CLI-level provisioning test runs (the password then comes on stdin).
 * `passwordOnStdin: false` leaves the flag out (the prompt, or no password at all, is the test);
 * without `credentialsOut` there is no --credentials-out (a profile with no operators needs none).
 */
export function provisionArgv(
  port: string,
  credentialsOut?: string,
  options: { terminal?: string; passwordOnStdin?: boolean } = {},
): string[] {
  return [
    'provision',
    '--port',
    port,
    '--merchant',
    MERCHANT,
    '--terminal',
    options.terminal ?? TERMINAL,
    ...(options.passwordOnStdin === false ? [] : ['--admin-password-stdin']),
    ...(credentialsOut === undefined ? [] : ['--credentials-out', credentialsOut]),
  ];
}
