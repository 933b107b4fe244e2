import type { Engine } from '../../host/engine.js';
import type { CliDeps, CommonOptions } from '../context.js';

/** Build the engine from the common flags, run, and always release it. */
export async function withEngine(
  deps: CliDeps,
  options: CommonOptions,
  body: (engine: Engine) => Promise<number>,
): Promise<number> {
  const logger = deps.createLogger(options);
  const handle = await deps.createEngine(options, logger);
  try {
    return await body(handle.engine);
  } finally {
    await handle.close();
  }
}
