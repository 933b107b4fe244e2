/**
 * `posbridge history --head` and `--verify` with anchors (docs/cli.md, "Anchors"). The chain in
 * the file shows an edit or a gap; only a head kept elsewhere shows that the last records were
 * deleted and the head record rewritten to match, or the whole file removed. The heads come from
 * `--expect-head`, `--expect-heads FILE` and witness files (`--witness`, else the one paired with
 * this trail: POSBRIDGE_AUDIT_WITNESS or the daemon config's `audit.witness`).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type AnchorLines,
  AuditStore,
  formatAnchor,
  GENESIS_HASH,
  isAnchor,
  isAuditError,
  parseAnchor,
  readAnchorFile,
  type SourcedAnchor,
  type VerifyResult,
} from '../../audit/index.js';
import { loadDaemonConfig } from '../../daemon/config/index.js';
import { PosbridgeError } from '../../host/errors.js';
import { auditTarget, sameFile, WITNESS_ENV } from '../audit-target.js';
import type { CliDeps } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { painter } from '../io.js';
import { visible } from '../render.js';
import { printJson } from '../run-action.js';

export interface VerifyOptions {
  audit?: string;
  config?: string;
  expectHead?: string[];
  expectHeads?: string[];
  witness?: string[];
  json?: boolean;
}

/** `--head`: the chain head as SEQ:HASH (meta.head; `--verify` checks that it matches the rows). */
export function printHead(deps: CliDeps, options: { audit?: string; json?: boolean }): number {
  const file = resolve(options.audit ?? deps.auditPath());
  let head = { seq: 0, hash: GENESIS_HASH };
  const present = trailState(file) === 'present';
  if (present) {
    const store = AuditStore.open(file, { readonly: true });
    try {
      head = store.head();
    } finally {
      store.close();
    }
  }
  if (options.json)
    printJson(deps.io, { kind: 'head', file, present, ...head, auditHead: formatAnchor(head) });
  else {
    deps.io.stdout.write(`${formatAnchor(head)}\n`);
    if (!present) deps.io.stderr.write(`no audit trail yet at ${file}: this is the head of an empty trail\n`);
  }
  return EXIT.ok;
}

export async function verifyTrail(deps: CliDeps, options: VerifyOptions): Promise<number> {
  const { io } = deps;
  const file = resolve(options.audit ?? deps.auditPath());
  const anchors = expectedHeads(options);
  const witnesses = await witnessFiles(deps, file, options);
  for (const witness of witnesses) {
    const lines = readHeads(witness.file, `witness ${witness.file}`);
    if (lines === undefined) {
      if (witness.named)
        throw new PosbridgeError('USAGE', `--witness file ${witness.file} does not exist`, {
          hint: 'name the witness file the daemon or POSBRIDGE_AUDIT_WITNESS writes',
        });
      io.stderr.write(
        `warning: the witness ${witness.file} (${witness.origin}) does not exist: no head to check against\n`,
      );
      continue;
    }
    anchors.push(...checkedLines(lines, witness.file, io.stderr));
  }
  const sources = [...new Set(anchors.map((a) => a.source.replace(/ line \d+$/, '')))];

  const state = trailState(file);
  if (state !== 'present') return reportNoTrail(deps, options, file, state, anchors);
  const store = AuditStore.open(file, { readonly: true });
  let result: VerifyResult;
  try {
    result = store.verify({ anchors });
  } finally {
    store.close();
  }
  const anchor = result.problem?.anchor as SourcedAnchor | undefined;
  if (options.json) {
    printJson(io, {
      kind: 'verify',
      ...result,
      auditHead: formatAnchor(result.head),
      ...(result.problem && {
        problem: {
          ...result.problem,
          ...(anchor && { anchor: formatAnchor(anchor), source: anchor.source }),
        },
      }),
      anchorsChecked: anchors.length,
      anchorSources: sources,
    });
  } else {
    const paint = painter(io);
    if (result.ok) {
      io.stdout.write(
        `${paint('green', 'intact')}: ${result.rows} records in ${result.file}, head ${formatAnchor(result.head)}\n`,
      );
      if (anchors.length > 0) {
        const which = anchors.length === 1 ? 'the head' : `all ${anchors.length} heads`;
        io.stdout.write(`  holds ${which} kept elsewhere (${sources.join(', ')})\n`);
      }
    } else {
      io.stdout.write(
        `${paint('red', 'TAMPERED')}: ${visible(`${result.file}: record ${result.problem?.seq}: ${result.problem?.message}${anchor ? ` (from ${anchor.source})` : ''}`)}\n`,
      );
    }
  }
  return result.ok ? EXIT.ok : EXIT.refused;
}

/** `--expect-head SEQ:HASH` (repeatable) and `--expect-heads FILE` (one per line). */
function expectedHeads(options: VerifyOptions): SourcedAnchor[] {
  const anchors: SourcedAnchor[] = [];
  for (const text of options.expectHead ?? []) {
    const parsed = parseAnchor(text);
    if (!isAnchor(parsed)) throw new PosbridgeError('USAGE', `--expect-head: ${parsed.problem}`);
    anchors.push({ ...parsed, source: '--expect-head' });
  }
  for (const path of options.expectHeads ?? []) {
    const lines = readHeads(path);
    if (lines === undefined)
      throw new PosbridgeError('USAGE', `--expect-heads file ${resolve(path)} does not exist`, {
        hint: 'a text file with one SEQ:HASH per line, as the reports print them',
      });
    // Written by hand: a last line that is not a head is a mistake, not an interrupted write.
    if (lines.tornTail !== undefined)
      lines.problems.push({ line: lines.tornTail, message: 'not a head: expected SEQ:HASH' });
    anchors.push(...checkedLines(lines, resolve(path)));
  }
  return anchors;
}

/** readAnchorFile, with a file that cannot be read (a directory, no permission) as bad input. */
function readHeads(path: string, name?: string): AnchorLines | undefined {
  try {
    return readAnchorFile(path, name);
  } catch (error) {
    if (!isAuditError(error)) throw error;
    throw new PosbridgeError('USAGE', error.message, { details: error.details });
  }
}

/** The heads of a file, or a usage error listing every line that is not one. */
function checkedLines(
  lines: AnchorLines,
  file: string,
  stderr?: { write(text: string): unknown },
): SourcedAnchor[] {
  if (lines.problems.length > 0) {
    throw new PosbridgeError(
      'USAGE',
      `${file}: ${lines.problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}`,
      { hint: 'each line holds one head, SEQ:HASH; # starts a comment', details: { file } },
    );
  }
  if (lines.tornTail !== undefined && stderr)
    stderr.write(
      `warning: ${file}: line ${lines.tornTail}, the last, was cut short (a write interrupted) and is left out\n`,
    );
  return lines.anchors;
}

interface WitnessFile {
  file: string;
  /** Named with --witness: it must exist. */
  named: boolean;
  origin: string;
}

/** `--witness FILE...`, else the witnesses paired with this trail (audit-target.ts). */
async function witnessFiles(deps: CliDeps, file: string, options: VerifyOptions): Promise<WitnessFile[]> {
  if (options.witness && options.witness.length > 0)
    return [...new Set(options.witness.map((w) => resolve(w)))].map((w) => ({
      file: w,
      named: true,
      origin: '--witness',
    }));
  const env = deps.io.env;
  const found = new Map<string, string>();
  const local = auditTarget(env);
  if (local.witness && sameFile(local.file, file)) found.set(resolve(local.witness), WITNESS_ENV);
  const daemon = await loadDaemonConfig({
    env,
    ...(options.config !== undefined && { path: options.config }),
  });
  const paired = auditTarget(env, daemon.config);
  if (paired.witness && sameFile(paired.file, file) && !found.has(resolve(paired.witness)))
    found.set(resolve(paired.witness), `audit.witness of ${daemon.path}`);
  return [...found].map(([w, origin]) => ({ file: w, named: false, origin }));
}

type TrailState = 'present' | 'removed' | 'emptied';

function trailState(file: string): TrailState {
  try {
    return statSync(file).size === 0 ? 'emptied' : 'present';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'removed';
    throw new PosbridgeError('USAGE', `cannot read the audit trail ${file}: ${(error as Error).message}`);
  }
}

/**
 * No trail, or an empty file: "none yet" while no head kept elsewhere says it held records; a
 * trail removed or emptied otherwise.
 */
function reportNoTrail(
  deps: CliDeps,
  options: VerifyOptions,
  file: string,
  state: 'removed' | 'emptied',
  anchors: readonly SourcedAnchor[],
): number {
  const latest = anchors.reduce<SourcedAnchor | undefined>(
    (best, a) => (a.seq > 0 && (best === undefined || a.seq > best.seq) ? a : best),
    undefined,
  );
  const head = { seq: 0, hash: GENESIS_HASH };
  if (latest === undefined) {
    if (options.json)
      printJson(deps.io, { kind: 'verify', ok: true, file, rows: 0, head, anchorsChecked: anchors.length });
    else deps.io.stdout.write(`no audit trail yet at ${file}\n`);
    return EXIT.ok;
  }
  const what = state === 'removed' ? 'does not exist' : 'is an empty file';
  const message = `the audit trail ${what}, but head ${formatAnchor(latest)} kept elsewhere says it held ${latest.seq} records: the trail was ${state}`;
  if (options.json)
    printJson(deps.io, {
      kind: 'verify',
      ok: false,
      file,
      rows: 0,
      head,
      problem: {
        kind: state === 'removed' ? 'trail-removed' : 'trail-emptied',
        seq: 1,
        message,
        anchor: formatAnchor(latest),
        source: latest.source,
      },
      anchorsChecked: anchors.length,
    });
  else
    deps.io.stdout.write(
      `${painter(deps.io)('red', 'TAMPERED')}: ${visible(`${file}: ${message} (from ${latest.source})`)}\n`,
    );
  return EXIT.refused;
}
