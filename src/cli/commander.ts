/**
 * commander, required as the CommonJS module it is. Its ES entry (esm.mjs) only re-exports that
 * same module, and for it Node 20 first parses the CommonJS source to find its exports: about
 * 10 ms of every command's start here (issue 12). Same classes, so `instanceof` holds either way.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Argument, Command, CommanderError, InvalidArgumentError, Option } = commander;
export type Argument = Commander.Argument;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
export type InvalidArgumentError = Commander.InvalidArgumentError;
export type Option = Commander.Option;
