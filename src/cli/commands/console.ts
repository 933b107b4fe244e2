/**
 * `posbridge console`: type TSP/1 commands, see replies and events as they arrive. IDs and CRCs
 * are added unless --raw. History (up arrow) is kept, and saved with secrets masked.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { ConsoleLine } from '../../host/console-session.js';
import { MASK, maskLine, maskLineDetailed, parseReply } from '../../protocol/index.js';
import { addCommonOptions, type CliDeps, type CommonOptions, DEFAULT_TIMEOUT_MS } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { cwdOf, painter } from '../io.js';
import { openTraceFile } from '../output-files.js';
import { visible } from '../render.js';
import { runAction } from '../run-action.js';

interface ConsoleOptions extends CommonOptions {
  raw?: boolean;
  history: boolean;
}

export function registerConsole(program: Command, deps: CliDeps): void {
  addCommonOptions(program.command('console'))
    .description('interactive line console: type TSP/1 commands, see replies and events as they come')
    .option('--raw', 'send exactly what is typed (no @ID, no CRC)')
    .option('--no-history', 'do not load or save the history file')
    .addHelpText(
      'after',
      `
Lines typed get an @ID and a CRC (unless --raw); replies and events print as they arrive.
The history file ($XDG_STATE_HOME/posbridge/console_history) stores lines with secrets masked.
Ctrl-D or "quit" ends the console.

Example:
  posbridge console --port /dev/ttyUSB0 --trace console.log
  printf 'HELLO\\nSTATUS\\n' | posbridge console --port mock://demo
`,
    )
    .action((options: ConsoleOptions) => runAction(deps, options, () => consoleAction(deps, options)));
}

async function consoleAction(deps: CliDeps, options: ConsoleOptions): Promise<number> {
  // Loaded when the console runs, not with every command line.
  const [{ createInterface }, { ConsoleSession }] = await Promise.all([
    import('node:readline'),
    import('../../host/console-session.js'),
  ]);
  const { io } = deps;
  const paint = painter(io);
  const logger = deps.createLogger(options);
  // Checked and opened before the port: a trace that cannot be written stops us first.
  const trace = options.trace
    ? await openTraceFile(options.trace, (text) => io.stderr.write(text), { cwd: cwdOf(io) })
    : undefined;
  let transport: Awaited<ReturnType<CliDeps['openTransport']>>;
  try {
    transport = await deps.openTransport(options, logger);
  } catch (error) {
    await trace?.close();
    throw error;
  }
  const historyPath = join(
    io.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'),
    'posbridge',
    'console_history',
  );
  const history = options.history ? await loadHistory(historyPath) : [];
  // Requests sent and not yet answered, by ID ('' for a line without one, e.g. with --raw).
  const awaiting = new Map<string, number>();
  let lastActivity = Date.now();
  let settled: (() => void) | undefined;

  const show = (line: ConsoleLine) => {
    lastActivity = Date.now();
    const colour = line.badCrc
      ? 'red'
      : line.kind === 'event'
        ? 'cyan'
        : line.kind === 'reply'
          ? 'green'
          : 'yellow';
    const note = line.badCrc
      ? paint('red', '  (bad CRC)')
      : line.kind === 'bad-bytes'
        ? paint('red', '  (bytes outside ASCII)')
        : '';
    io.stdout.write(`${paint(colour, `< ${visible(maskLine(line.text))}`)}${note}\n`);
    const reply = parseReply(line.text);
    if (reply.ok && (reply.reply.kind === 'ok' || reply.reply.kind === 'err')) {
      const key = reply.reply.id ?? '';
      const left = (awaiting.get(key) ?? 0) - 1;
      if (left > 0) awaiting.set(key, left);
      else awaiting.delete(key);
      if (awaiting.size === 0) settled?.();
    }
  };
  const session = new ConsoleSession(
    transport,
    { raw: options.raw === true, trace, firstId: 1 + Math.floor(Math.random() * 9000) },
    show,
  );
  let closedByPeer = false;
  let leaving = false;
  transport.onClose((error) => {
    if (leaving) return; // our own close at the end, not the terminal going away
    closedByPeer = true;
    io.stderr.write(
      `${paint('red', 'the terminal went away')}${error ? `: ${visible(error.message)}` : ''}\n`,
    );
    settled?.();
    rl.close();
  });

  const tty = io.stdin.isTTY === true;
  const rl = createInterface({
    input: io.stdin,
    output: tty ? (io.stdout as NodeJS.WritableStream) : undefined,
    terminal: tty,
    prompt: '',
    history: [...history].reverse(),
    historySize: 1000,
    removeHistoryDuplicates: true,
  });
  // The up arrow recalls a line as the history file keeps it: its password masked.
  rl.on('history', (lines: string[]) => {
    if (lines[0] !== undefined) lines[0] = maskLine(lines[0]);
  });
  // On a terminal readline has echoed the password as it was typed: erased as soon as the line is
  // entered (before the keys that follow are echoed), the masked line printed below replaces it.
  if (tty)
    rl.on('line', (typed: string) => {
      if (maskLine(typed.trim()) !== typed.trim())
        io.stdout.write(eraseTyped(typed, (io.stdout as { columns?: number }).columns));
    });
  if (io.stdin.isTTY)
    io.stderr.write(
      `connected to ${options.port}; type HELP-less TSP/1 commands (HELLO, STATUS, ...), Ctrl-D to leave\n`,
    );

  for await (const typed of rl) {
    const line = typed.trim();
    if (line === '') continue;
    if (line === 'quit' || line === 'exit') break;
    const masked = maskLineDetailed(line);
    if (masked.secrets.some((secret) => secret === MASK || secret === `"${MASK}"`)) {
      // A line recalled from the history holds *** where its password was: sent, it would spend
      // a login attempt on "***".
      io.stderr.write(
        `${paint('red', 'not sent:')} its password is the mask ${MASK} (the history keeps no password): type the line with the password\n`,
      );
      continue;
    }
    // Framed and shown before it is sent: the reply may arrive before write() resolves (an
    // in-process terminal answers at once), and must then be counted and printed after it.
    const framed = options.raw ? typed : session.frame(typed);
    const key = /^@([0-9]+) /.exec(framed)?.[1] ?? '';
    io.stdout.write(`${paint('dim', `> ${maskLine(framed)}`)}\n`);
    awaiting.set(key, (awaiting.get(key) ?? 0) + 1);
    lastActivity = Date.now(); // the reply timeout runs from the send
    const sent = await session.send(framed).catch((error: Error) => {
      io.stderr.write(`${painter(io, 'stderr')('red', 'not sent:')} ${visible(error.message)}\n`);
      return undefined;
    });
    if (sent === undefined) {
      const left = (awaiting.get(key) ?? 1) - 1;
      if (left > 0) awaiting.set(key, left);
      else awaiting.delete(key);
      continue;
    }
    if (options.history)
      await appendFile(historyPath, `${maskLine(line)}\n`, { mode: 0o600 }).catch(() => undefined);
  }

  // Piped input ends before the replies arrive: wait for them, within the reply timeout.
  if (!closedByPeer && awaiting.size > 0) {
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        if (Date.now() - lastActivity > (options.timeout ?? DEFAULT_TIMEOUT_MS)) finish();
      }, 50);
      const finish = () => {
        clearInterval(tick);
        settled = undefined;
        resolve();
      };
      settled = finish;
    });
  }
  rl.close();
  leaving = true;
  await transport.close().catch(() => undefined);
  await trace?.close();
  return closedByPeer ? EXIT.unreachable : EXIT.ok;
}

/**
 * Moves the cursor back over the line the person typed (readline echoed it, then a line break)
 * and clears from there, so the masked line printed next takes its place.
 */
function eraseTyped(typed: string, columns: number | undefined): string {
  const rows = Math.max(1, Math.ceil([...typed].length / Math.max(1, columns ?? 80)));
  return `\u001b[${rows}A\r\u001b[J`;
}

async function loadHistory(path: string): Promise<string[]> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch(() => undefined);
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).slice(-1000);
}
