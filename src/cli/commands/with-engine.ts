import type { Engine } from '../../host/engine.js';
import type { CliDeps, CommonOptions, EngineChoice, EngineHandle } from '../context.js';
import { cwdOf } from '../io.js';
import { openTraceFile } from '../output-files.js';

/**
 * Build the engine from the common flags, run, and always release it. The --trace file is
 * checked and opened first (a path that cannot be written is exit 2 before any byte is sent) and
 * written by this process, also when the operations run in the daemon.
 */
export async function withEngine(
  deps: CliDeps,
  options: CommonOptions,
  body: (engine: Engine, handle: EngineHandle) => Promise<number>,
  choice: Omit<EngineChoice, 'trace'> = {},
): Promise<number> {
  const logger = deps.createLogger(options);
  const trace =
    options.trace === undefined
      ? undefined
      : await openTraceFile(options.trace, (text) => deps.io.stderr.write(text), { cwd: cwdOf(deps.io) });
  try {
    const handle = await deps.createEngine(options, logger, { ...choice, ...(trace && { trace }) });
    try {
      return await body(handle.engine, handle);
    } finally {
      await handle.close();
    }
  } finally {
    await trace?.close();
  }
}
