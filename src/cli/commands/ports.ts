import type { Command } from 'commander';
import type { ListedPort } from '../../host/ports/index.js';
import type { CliDeps } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { visible } from '../render.js';
import { printJson, runAction } from '../run-action.js';

export function registerPorts(program: Command, deps: CliDeps): void {
  program
    .command('ports')
    .description('list serial ports and mark the ones that look like terminals (sends nothing)')
    .option('--json', 'print exactly one JSON document on stdout')
    .addHelpText(
      'after',
      "\nExample:\n  posbridge ports\n  posbridge ports --json | jq -r '.ports[] | select(.looksLikeTerminal) | .path'\n",
    )
    .action((options: { json?: boolean }) =>
      runAction(deps, options, async () => {
        const ports = await deps.listPorts();
        if (options.json) printJson(deps.io, { kind: 'ports', ports });
        else deps.io.stdout.write(renderPorts(ports, painter(deps.io)));
        return EXIT.ok;
      }),
    );
}

function renderPorts(ports: ListedPort[], paint: ReturnType<typeof painter>): string {
  if (ports.length === 0)
    return 'no serial ports found (a pty, or a serial server as tcp://, rfc2217:// or telnet://, can still be named with --port)\n';
  return ports
    .map((p) => {
      const mark =
        p.kind === 'terminal'
          ? paint('green', 'terminal')
          : p.kind === 'adapter'
            ? paint('yellow', 'adapter ')
            : 'other   ';
      const usb = p.vendorId ? ` ${p.vendorId}:${p.productId ?? '????'}` : '';
      const who = [p.label, p.manufacturer, p.serialNumber && `sn ${p.serialNumber}`]
        .filter(Boolean)
        .join(', ');
      // Names and serial numbers come from the device (sysfs, udev): shown, never obeyed.
      return `${mark} ${visible(`${p.path}${usb}${who ? `  ${who}` : ''}`)}${p.byId ? `\n         ${paint('dim', visible(p.byId))}` : ''}\n`;
    })
    .join('');
}
