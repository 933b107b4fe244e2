/**
 * Option parsers of `posbridge mock`: a bad value is a usage error naming the option (exit 2).
 */

// The modules themselves, not the mock's index: parsing options needs no terminal.
import { type DiagFaults, parseDiagFaults } from '../../mock-device/diag-faults.js';
import { type FaultSpec, parseFaultSpec } from '../../mock-device/faults/index.js';
import { identityProblem } from '../../protocol/index.js';
import { InvalidArgumentError } from '../commander.js';

export interface TcpAddress {
  host: string;
  port: number;
}

export function parseListen(value: string): TcpAddress {
  const match = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535) {
    throw new InvalidArgumentError(
      'expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:7001 (port 0: any free port)',
    );
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

export function parseFault(value: string): FaultSpec[] {
  try {
    return parseFaultSpec(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function parseDiagFail(value: string): DiagFaults {
  try {
    return parseDiagFaults(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function identity(flag: string): (value: string) => string {
  return (value) => {
    const problem = identityProblem(value);
    if (problem) throw new InvalidArgumentError(`${flag} ${problem}`);
    return value;
  };
}

export function nonEmpty(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} needs a path`);
    return value;
  };
}

export function integer(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}`);
    }
    return Number(value);
  };
}

export function nonNegative(flag: string): (value: string) => number {
  return (value) => {
    if (!/^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(value))
      throw new InvalidArgumentError(`${flag} must be a number, 0 or more`);
    return Number(value);
  };
}

export function oneOf(flag: string, allowed: string[]): (value: string) => string {
  return (value) => {
    if (!allowed.includes(value))
      throw new InvalidArgumentError(`${flag} must be one of ${allowed.join(', ')}`);
    return value;
  };
}
