/**
 * The chain: each row's hash covers the previous row's hash and the row's content, and an append
 * runs inside BEGIN IMMEDIATE (the write lock held before the head is read), so two writers never
 * fork it. An append refuses a trail whose head does not match its last row, a run that was never
 * started, and a run already finished.
 */
import { sha256Hex } from './canonical.js';
import { AuditError } from './errors.js';
import { type EventType, GENESIS_HASH } from './schema.js';
import type { Statements } from './store-open.js';
import type { ChainAnchor } from './types.js';

export interface AppendInput {
  runId: string;
  type: EventType;
  payload: string;
  at: string;
}

/**
 * The hash of a row: sha256 over the previous row's hash (64 hex digits) followed by the
 * canonical JSON of the row's content. `payload` is the stored canonical JSON text, inserted as is.
 */
export function chainHash(
  prevHash: string,
  row: { seq: number; at: string; runId: string; type: string; payload: string },
): string {
  // Keys in sorted order: at, payload, run, seq, type (what canonicalJson would produce).
  const content = `{"at":${JSON.stringify(row.at)},"payload":${row.payload},"run":${JSON.stringify(row.runId)},"seq":${row.seq},"type":${JSON.stringify(row.type)}}`;
  return sha256Hex(prevHash + content);
}

/** Runs inside BEGIN IMMEDIATE: the write lock is held, no other writer can move the head. */
export function appendInTransaction(s: Statements, file: string, input: AppendInput): ChainAnchor {
  const headRow = s.head.get() as { value: string } | undefined;
  const last = s.last.get() as { seq: number; hash: string } | undefined;
  const head = headRow === undefined ? undefined : (JSON.parse(headRow.value) as ChainAnchor);
  const lastSeq = last?.seq ?? 0;
  const lastHash = last?.hash ?? GENESIS_HASH;
  if (head === undefined || head.seq !== lastSeq || head.hash !== lastHash) {
    throw new AuditError(
      'AUDIT_CORRUPT',
      head === undefined
        ? `audit trail ${file} has lost its chain head record; refusing to append`
        : `audit trail ${file}: the chain head (seq ${head.seq}) does not match the last row (seq ${lastSeq}); rows were deleted or edited, refusing to append`,
      {
        hint: 'run `posbridge history --verify`; keep the file as evidence and move it aside to start a new trail',
        details: { file, headSeq: head?.seq, lastSeq },
      },
    );
  }
  if (input.type !== 'run-start') {
    const types = new Set((s.runState.all(input.runId) as { type: string }[]).map((r) => r.type));
    if (!types.has('run-start')) {
      throw new AuditError('AUDIT_UNKNOWN_RUN', `audit trail ${file} has no run ${input.runId}`, {
        details: { file, runId: input.runId },
      });
    }
    if (types.has('run-finish')) {
      throw new AuditError('AUDIT_RUN_FINISHED', `run ${input.runId} in ${file} is already finished`, {
        details: { file, runId: input.runId },
      });
    }
  }
  const seq = lastSeq + 1;
  const hash = chainHash(lastHash, {
    seq,
    at: input.at,
    runId: input.runId,
    type: input.type,
    payload: input.payload,
  });
  s.insert.run({
    seq,
    at: input.at,
    run_id: input.runId,
    type: input.type,
    payload: input.payload,
    prev_hash: lastHash,
    hash,
  });
  s.setHead.run(JSON.stringify({ seq, hash }));
  return { seq, hash };
}
