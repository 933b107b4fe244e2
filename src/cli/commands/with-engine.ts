import type { Engine } from '../../host/engine.js';
import type { CliDeps, CommonOptions } from '../context.js';
import { linkOf } from '../daemon-client.js';
import { cwdOf } from '../io.js';
import { openTraceFile } from '../output-files.js';
import type { Runtime } from '../runtime.js';
import type { ConfigRequest } from '../runtime-config.js';

/**
 * Build the runtime from the common flags (the config first: is there a daemon to go through?),
 * run, and always release it. The --trace file is checked and opened first (a path that cannot
 * be written is exit 2 before any byte is sent) and written by this process, also when the
 * operations run in the daemon. `request`: the demo's own mock terminal and audit trail.
 *
 * The composition root is imported here, when a command runs, not when the command line is
 * built: `posbridge --help` or `history` never load the engine, the mock or the API client.
 */
export async function withEngine(
  deps: CliDeps,
  options: CommonOptions,
  body: (engine: Engine, runtime: Runtime) => Promise<number>,
  request: Pick<ConfigRequest, 'inProcess' | 'audit'> = {},
): Promise<number> {
  const logger = deps.createLogger(options);
  const trace =
    options.trace === undefined
      ? undefined
      : await openTraceFile(options.trace, (text) => deps.io.stderr.write(text), { cwd: cwdOf(deps.io) });
  try {
    const [{ buildRuntime }, { configSystem, loadRuntimeConfig }] = await Promise.all([
      import('../runtime.js'),
      import('../runtime-config.js'),
    ]);
    const config = await loadRuntimeConfig(
      deps.io,
      { socket: options.socket, ...request },
      configSystem(deps),
    );
    const runtime = await buildRuntime(config, deps.io, {
      parts: deps,
      logger,
      link: linkOf(options, trace),
    });
    try {
      return await body(runtime.engine, runtime);
    } finally {
      await runtime.close();
    }
  } finally {
    await trace?.close();
  }
}
