#!/usr/bin/env node
/** The posbridge executable: real IO in, exit code out. */
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { VERSION } from './version.js';

// Node 22.1+ keeps the compiled code of the modules loaded after this on disk
// (NODE_DISABLE_COMPILE_CACHE=1 turns it off): later starts skip compiling them. In the user's
// own cache directory, never the shared temp directory, where another user could plant code
// that this process (the daemon holds passwords in memory) would run. Node 20 has no such cache.
const cacheHome = process.env.XDG_CACHE_HOME;
(module as { enableCompileCache?: (directory: string) => unknown }).enableCompileCache?.(
  join(
    cacheHome && isAbsolute(cacheHome) ? cacheHome : join(homedir(), '.cache'),
    'posbridge',
    'node-compile-cache',
  ),
);

// A reader that goes away (`posbridge ports --json | head -1`) is not an error of ours: without
// a listener the EPIPE is an unhandled 'error' event, a crash with a stack trace. Later writes to
// the closed pipe are dropped; the command runs to its end (a provisioning is not cut short).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Scripts ask for the version often; it needs none of the ~600 ms of modules behind the rest.
  process.stdout.write(`${VERSION}\n`);
} else if (argv[0] === '__complete') {
  // Shells run this at every TAB: only the socket module, not the whole CLI (manual/complete.ts).
  const { complete } = await import('./manual/complete.js');
  process.exitCode = await complete(argv.slice(1), process.env, (text) => process.stdout.write(text));
} else {
  const [{ productionDeps }, { processIo }, { runCli }] = await Promise.all([
    import('./compose.js'),
    import('./io.js'),
    import('./program.js'),
  ]);
  runCli(argv, productionDeps(processIo())).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`posbridge: internal error: ${(error as Error)?.message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
