/**
 * Runs one benchmark in a process of its own (run.ts starts one per benchmark), so that memory,
 * JIT state and leftover timers of one never colour another's figures:
 *
 *   node section.js NAME CONFIG_JSON OUT_FILE
 *
 * Writes the benchmark's results as JSON to OUT_FILE; progress goes to stdout.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScale, type ScaleOptions } from './scale.js';
import { runStackOverhead, type StackOptions } from './stack-overhead.js';
import { runStartup, type StartupOptions } from './startup.js';
import { runWireEfficiency, type WireOptions } from './wire-efficiency.js';

// Compiled to bench/.out/bench/section.js: the project root is three levels up.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const [name, configText, outFile] = process.argv.slice(2);
if (!name || !configText || !outFile) throw new Error('usage: section.js NAME CONFIG_JSON OUT_FILE');
const config = JSON.parse(configText);
const log = (line: string) => process.stdout.write(`${line}\n`);

let results: unknown;
switch (name) {
  case 'wire':
    results = await runWireEfficiency({ ...(config as Omit<WireOptions, 'log'>), log });
    break;
  case 'stack':
    results = await runStackOverhead({ ...(config as Omit<StackOptions, 'log'>), log });
    break;
  case 'scale':
    results = await runScale({ ...(config as Omit<ScaleOptions, 'log'>), log });
    break;
  case 'startup':
    results = await runStartup({ ...(config as Omit<StartupOptions, 'log' | 'root'>), root: ROOT, log });
    break;
  default:
    throw new Error(`unknown benchmark ${name}`);
}
writeFileSync(outFile, JSON.stringify(results));
