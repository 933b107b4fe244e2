/**
 * A factory whose module loads when a port of its scheme is first opened: the Telnet stack is ten
 * modules that a command on a device, tcp:// or mock:// port never needs (start-up, issue 12).
 *
 * A load that succeeded is kept; callers during one load share it. A load that failed is not kept:
 * a transient failure (a file being replaced by an upgrade, EMFILE) would otherwise make every
 * later open of the scheme fail the same way for the life of the process (the daemon's). The next
 * use loads again.
 */
import { defaultEndpoint } from './endpoint.js';
import type { PortFactory } from './transport.js';

export function loadedOnUse(load: () => Promise<PortFactory>): PortFactory {
  let loading: Promise<PortFactory> | undefined;
  const factory = (): Promise<PortFactory> => {
    if (loading) return loading;
    const attempt = (async () => load())();
    loading = attempt;
    // Forget only this attempt: by the time it fails a later one may already be under way.
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
    return attempt;
  };
  const self: PortFactory = {
    open: async (name, options) => (await factory()).open(name, options),
    endpoint: async (name) => {
      const inner = await factory();
      return inner.endpoint ? inner.endpoint(name) : defaultEndpoint(self, name);
    },
  };
  return self;
}
