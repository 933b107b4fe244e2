/** How `info` runs (info.ts: its contract): HELLO, STATUS; changes nothing. */
import type { info } from './info.js';
import type { RunOf } from './operation.js';

export const infoRun: RunOf<typeof info> = {
  port: (request) => request.port,
  async run({ port }, { terminal }) {
    const hello = await terminal.hello();
    const status = await terminal.status();
    return { kind: 'info' as const, port, hello, status };
  },
};
