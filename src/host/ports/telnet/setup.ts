/**
 * The opening handshake of a telnet:// or rfc2217:// port, every wait bounded by the port's
 * `timeout` (pyserial's network timeout, default 3 s): nothing here can hang on an answer that
 * does not come (docs/cli.md, "Serial servers": pyserial waits forever for a DTR/RTS answer a pty never gives).
 *
 * 1. Options: WILL/DO BINARY and SGA both ways, WILL COM-PORT-OPTION for rfc2217://. A server
 *    that refuses BINARY is served in NVT mode (CR NUL, codec.ts); one that refuses
 *    COM-PORT-OPTION cannot set the line, so rfc2217:// fails (telnet:// is the way to reach it).
 * 2. rfc2217:// only: the line as docs/protocol.md §2 wants it (the chosen baud, 8 data bits, no
 *    parity, 1 stop bit, no flow control) and PURGE-DATA of both buffers, then the server's
 *    acknowledgements, each compared with what was asked. DTR and RTS are left as the server's
 *    open set them: TSP/1 terminals must not need them (§2), and a server without modem lines
 *    (ser2net on a pty) never answers them.
 * 3. Data from before this point is dropped (it was purged, or is stale), then the link is ready.
 *
 * Every failure is PORT_OPEN_FAILED (exit 3: the port could not be opened as asked), naming the
 * setting and the server's answer; nothing reached the terminal but the purge.
 */
import { PosbridgeError } from '../../errors.js';
import { TelnetOption } from './codec.js';
import {
  type ComPortSetting,
  Control,
  describeSetting,
  Parity,
  Purge,
  purgeData,
  StopSize,
  setBaudRate,
  setControl,
  setDataSize,
  setParity,
  setStopSize,
} from './com-port.js';
import type { TelnetLink } from './link.js';
import type { TelnetPortSpec } from './url.js';

/** TSP/1's line (docs/protocol.md §2): 8 data bits, no parity, 1 stop bit, no flow control. */
const LINE: Partial<Record<ComPortSetting, number>> = {
  datasize: 8,
  parity: Parity.NONE,
  stopsize: StopSize.ONE,
};

export async function negotiate(link: TelnetLink, spec: TelnetPortSpec, baudRate: number): Promise<void> {
  const seconds = spec.timeoutMs / 1000;
  const n = link.negotiator;
  const comPort = spec.scheme === 'rfc2217';
  const essential = (): boolean =>
    n.settled('local', TelnetOption.BINARY) &&
    n.settled('remote', TelnetOption.BINARY) &&
    (!comPort || n.settled('local', TelnetOption.COM_PORT));
  link.start();
  const answered = await link.waitFor(essential, spec.timeoutMs);
  if (!answered && !link.heardTelnet) {
    throw failed(link, `no Telnet negotiation from the server within ${seconds} s`, {
      hint: `Is it a raw TCP port? Then use tcp://${spec.address}. A slow server: raise ?timeout=SECONDS.`,
    });
  }
  if (comPort && !n.enabled('local', TelnetOption.COM_PORT)) {
    throw failed(
      link,
      answered
        ? 'the server refused RFC 2217 (COM-PORT-OPTION): it cannot set the serial line'
        : `the server did not accept RFC 2217 (COM-PORT-OPTION) within ${seconds} s`,
      {
        hint: `If the server's serial line is already set up, reach it with telnet://${spec.address}; otherwise enable RFC 2217 on it (ser2net: accepter telnet(rfc2217),tcp,...).`,
      },
    );
  }
  if (comPort) await setLine(link, spec, baudRate);
  link.markReady();
}

async function setLine(link: TelnetLink, spec: TelnetPortSpec, baudRate: number): Promise<void> {
  const awaited: ComPortSetting[] = ['baud', 'datasize', 'parity', 'stopsize', 'purge'];
  if (!spec.ignSetControl) awaited.push('control');
  link.forget(['baud', 'datasize', 'parity', 'stopsize', 'control', 'purge']);
  link.sendRaw(
    Buffer.concat([
      setBaudRate(baudRate),
      setDataSize(LINE.datasize!),
      setParity(LINE.parity!),
      setStopSize(LINE.stopsize!),
      setControl(Control.FLOW_NONE),
      purgeData(Purge.BOTH),
    ]),
  );
  await link.waitFor(() => awaited.every((s) => link.answer(s) !== undefined), spec.timeoutMs);
  const missing = awaited.filter((s) => link.answer(s) === undefined);
  if (missing.length > 0) {
    const names = missing.map((s) => COMMAND_NAME[s]).join(', ');
    throw failed(link, `the serial server did not answer ${names} within ${spec.timeoutMs / 1000} s`, {
      hint: missing.every((s) => s === 'control')
        ? 'Some servers never answer SET-CONTROL: add ?ign_set_control to the port name.'
        : 'Check that the server speaks RFC 2217 on this port; a slow server: raise ?timeout=SECONDS.',
    });
  }
  const baud = link.answer('baud')!;
  if (baud !== baudRate) {
    throw failed(link, `the serial server set ${baud} baud, not ${baudRate}`, {
      hint: `Use --baud ${baud} if the terminal runs at that rate, or allow ${baudRate} baud on the serial server.`,
      details: { asked: baudRate, answered: baud },
    });
  }
  for (const setting of ['datasize', 'parity', 'stopsize'] as const) {
    const got = link.answer(setting)!;
    if (got !== LINE[setting]) {
      throw failed(
        link,
        `the serial server set ${describeSetting(setting, got)}, not ${describeSetting(setting, LINE[setting]!)}`,
        { hint: 'TSP/1 terminals use 8N1 (docs/protocol.md §2): configure the serial server for 8N1.' },
      );
    }
  }
  const control = link.answer('control');
  if (!spec.ignSetControl && control !== Control.FLOW_NONE) {
    throw failed(link, `the serial server kept ${describeSetting('control', control!)}, not none`, {
      hint: 'TSP/1 uses no flow control (docs/protocol.md §2): turn it off on the serial server, or add ?ign_set_control to go on anyway.',
    });
  }
}

const COMMAND_NAME: Record<ComPortSetting, string> = {
  baud: 'SET-BAUDRATE',
  datasize: 'SET-DATASIZE',
  parity: 'SET-PARITY',
  stopsize: 'SET-STOPSIZE',
  control: 'SET-CONTROL',
  purge: 'PURGE-DATA',
};

function failed(
  link: TelnetLink,
  message: string,
  extra: { hint: string; details?: Record<string, unknown> },
): PosbridgeError {
  return new PosbridgeError('PORT_OPEN_FAILED', `${link.name}: ${message}`, {
    hint: extra.hint,
    details: { port: link.name, ...extra.details },
  });
}
