#!/usr/bin/env node
/** The posbridge executable: real IO in, exit code out. */
import { productionDeps } from './compose.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

runCli(process.argv.slice(2), productionDeps(processIo())).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`posbridge: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
