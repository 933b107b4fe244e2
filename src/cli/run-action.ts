/**
 * One place where a command's outcome becomes output and an exit code: a coded error (any
 * posbridge error: host, audit trail, mock) is a message and a hint for people (or a JSON error
 * document), never a stack trace, and its exit code comes from the one table (exit-codes.ts).
 */
import { CodedError } from '../protocol/index.js';
import type { CliDeps, CommonOptions } from './context.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { type CliIo, painter } from './io.js';
import { jsonSafe, renderAuditHead, renderErrorLines } from './render.js';

export async function runAction(
  deps: CliDeps,
  options: Pick<CommonOptions, 'json'>,
  body: () => Promise<number>,
): Promise<void> {
  try {
    deps.result.exitCode = await body();
  } catch (error) {
    deps.result.exitCode = reportError(deps.io, options, error);
  }
}

export function reportError(io: CliIo, options: Pick<CommonOptions, 'json'>, error: unknown): number {
  const known = error instanceof CodedError ? error : undefined;
  const code = known?.code ?? 'INTERNAL';
  const message = known ? known.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
  const hint =
    known?.hint ??
    (known
      ? undefined
      : 'this is a bug in posbridge: please report it with --trace and --log-level debug output');
  // A run the audit trail recorded before it failed names its record (audited-engine.ts).
  const auditHead = known?.details.auditHead;
  const head = typeof auditHead === 'string' ? auditHead : undefined;
  if (options.json)
    io.stdout.write(
      `${jsonSafe(JSON.stringify({ error: { code, message, ...(hint && { hint }), ...(head && { auditHead: head }) } }, null, 2))}\n`,
    );
  else
    io.stderr.write(
      renderErrorLines(message, hint, painter(io, 'stderr')) +
        (head ? renderAuditHead(head, painter(io, 'stderr')) : ''),
    );
  if (!known && process.env.POSBRIDGE_DEBUG) io.stderr.write(`${(error as Error)?.stack}\n`);
  return known ? exitCodeFor(known) : EXIT.refused;
}

export function printJson(io: CliIo, document: unknown): void {
  io.stdout.write(`${jsonSafe(JSON.stringify(document, null, 2))}\n`);
}
