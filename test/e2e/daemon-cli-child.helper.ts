/**
 * A `posbridge daemon` process for the e2e tests: main.ts's composition (process IO, real
 * signals) plus the in-memory port manager of the API rig over mock:// terminals, with the fixed
 * clocks that make its reports comparable. Transpiled with src/ by the test, then run by node.
 *
 * Usage: node daemon-cli-child.helper.js SOCKET
 */
import { registerDaemon } from '../../src/cli/commands/daemon.js';
import { productionDeps } from '../../src/cli/compose.js';
import { processIo } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { fixedNow, MockWorld, seededBytes } from '../integration/api-rig.helper.js';

const socket = process.argv[2]!;
const world = new MockWorld();
const deps = {
  ...productionDeps(processIo()),
  now: fixedNow,
  randomBytes: seededBytes(),
  hostname: () => 'station-test',
  // The composition root's daemon runtime, over the rig's in-memory port manager.
  startPortManager: async () => world.portManager(),
  result: { exitCode: 0 },
};
const program = buildProgram(deps);
// Until program.ts registers it.
if (!program.commands.some((c) => c.name() === 'daemon')) registerDaemon(program, deps);
for (const command of program.commands) command.exitOverride();
try {
  await program.parseAsync(['daemon', '--socket', socket, '--log-level', 'info'], { from: 'user' });
} finally {
  await world.close();
}
process.exitCode = deps.result.exitCode;
