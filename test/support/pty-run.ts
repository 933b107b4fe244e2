/**
 * The built CLI with some of its standard streams on a real pseudo-terminal (python3's `pty`
 * module makes it), the others on pipes: what a technician's shell, a pipe to `less` or a CI log
 * gives it. Prompts are answered as they appear on the terminal; nothing waits for a fixed time
 * (the read ends when the child's last terminal descriptor closes).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN, PROCESS_TIMEOUT_MS, requireBuiltCli } from './cli-process.js';

export interface PtyStreams {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface PtyRun {
  code: number | null;
  /** What the program wrote to the terminal (its tty streams), CRLF as the terminal shows it. */
  tty: string;
  /** Its stdout and stderr when they were pipes (empty when on the terminal). */
  stdout: string;
  stderr: string;
}

// argv[1]: JSON {argv, ttyFile, stdin, stdout, stderr, answers: [[expect, send], ...]}.
const DRIVER = `
import fcntl, json, os, struct, subprocess, sys, termios
cfg = json.loads(sys.argv[1])
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 100, 0, 0))
child = subprocess.Popen(cfg['argv'],
    stdin=slave if cfg['stdin'] else subprocess.DEVNULL,
    stdout=slave if cfg['stdout'] else None,
    stderr=slave if cfg['stderr'] else None,
    start_new_session=True)
os.close(slave)
seen = b''
answers = [(a.encode(), b.encode()) for a, b in cfg['answers']]
with open(cfg['ttyFile'], 'wb') as out:
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out.write(data)
        out.flush()
        seen += data
        while answers and answers[0][0] in seen:
            seen = seen[seen.index(answers[0][0]) + len(answers[0][0]):]
            os.write(master, answers.pop(0)[1])
sys.exit(child.wait())
`;

export async function runCliInPty(
  args: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    tty: PtyStreams;
    /** Each `[text, reply]`: once `text` shows on the terminal, type `reply`. */
    answers?: [string, string][];
  },
): Promise<PtyRun> {
  requireBuiltCli();
  const ttyFile = join(options.cwd, `tty-${process.hrtime.bigint()}.out`);
  const config = {
    argv: [process.execPath, CLI_MAIN, ...args],
    ttyFile,
    stdin: options.tty.stdin === true,
    stdout: options.tty.stdout === true,
    stderr: options.tty.stderr === true,
    answers: options.answers ?? [],
  };
  const child = spawn('python3', ['-I', '-c', DRIVER, JSON.stringify(config)], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`posbridge ${args.join(' ')} in a pty did not exit\n${stdout}\n${stderr}`));
    }, PROCESS_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  let tty = '';
  try {
    tty = readFileSync(ttyFile, 'utf8');
  } catch {
    // The driver failed before opening it: its stderr says why.
  }
  return { code, tty, stdout, stderr };
}
