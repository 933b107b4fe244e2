/**
 * What a port name is: a device path, or `SCHEME://...` for a registered factory (registry.ts).
 * Apart from the registry so the command line can read port names without loading serialport.
 */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

export type ParsedPortName = { kind: 'device'; path: string } | { kind: 'scheme'; scheme: string };

export function parsePortName(name: string): ParsedPortName {
  const match = SCHEME.exec(name);
  if (match) return { kind: 'scheme', scheme: match[1]!.toLowerCase() };
  return { kind: 'device', path: name };
}
