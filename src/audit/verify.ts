/**
 * Walking the chain (store.ts, "Tamper evidence"): recompute every hash from row 1 and report the
 * first problem: an edited row, a deleted row, a tail shorter than the head record, or a row that
 * an anchor kept elsewhere contradicts. An anchor whose row is past the end of the trail means
 * the last rows were deleted and the head record rewritten to match: the one cut the file alone
 * cannot show. Pure: rows in, a result out; the store runs it inside one read snapshot.
 */
import { formatAnchor } from './anchor.js';
import { EVENT_TYPES, type EventType, GENESIS_HASH } from './schema.js';
import type { ChainAnchor, VerifyProblem, VerifyResult } from './types.js';

/** A row of `events`, as SQLite gives it. */
export interface EventRow {
  seq: number;
  at: string;
  run_id: string;
  type: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

/** The hash a row must have, given the hash of the row before it. */
export type RowHasher = (prevHash: string, row: EventRow) => string;

export function walkChain(
  file: string,
  /** Called once, after the anchors are checked: an open SQLite iterator holds the connection. */
  rows: () => Iterable<EventRow>,
  readHead: () => ChainAnchor | undefined,
  anchors: readonly ChainAnchor[],
  hashOf: RowHasher,
): VerifyResult {
  // Several anchors may name one row (a witness and a report): each must hold.
  const pending = new Map<number, ChainAnchor[]>();
  for (const anchor of anchors) pending.set(anchor.seq, [...(pending.get(anchor.seq) ?? []), anchor]);
  let expected = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  const fail = (problem: VerifyProblem): VerifyResult => ({
    ok: false,
    file,
    rows: count,
    head: { seq: expected - 1, hash: prev },
    problem,
  });
  // Record 0 is the empty trail, before any row: its hash is the genesis hash.
  const notEmpty = pending.get(0)?.find((a) => a.hash !== GENESIS_HASH);
  pending.delete(0);
  if (notEmpty) {
    return fail({
      kind: 'anchor-mismatch',
      seq: 0,
      anchor: notEmpty,
      message: `head ${formatAnchor(notEmpty)} kept elsewhere names record 0, the empty trail, whose hash is all zeros`,
    });
  }
  for (const row of rows()) {
    const problem = checkLink({ seq: expected - 1, hash: prev }, row, hashOf);
    if (problem) {
      if (problem.kind !== 'missing-rows') count += 1;
      return fail(problem);
    }
    count += 1;
    const anchored = pending.get(row.seq);
    pending.delete(row.seq);
    const contradicted = anchored?.find((a) => a.hash !== row.hash);
    if (contradicted) {
      return fail({
        kind: 'anchor-mismatch',
        seq: row.seq,
        anchor: contradicted,
        message: `head ${formatAnchor(contradicted)} kept elsewhere differs from row ${row.seq} of the trail (hash ${row.hash.slice(0, 16)}...): the trail was rewritten or replaced`,
      });
    }
    prev = row.hash;
    expected += 1;
  }
  const lastSeq = expected - 1;
  const head = readHead();
  if (head === undefined) {
    return fail({
      kind: 'head-missing',
      seq: lastSeq,
      message: 'the chain head record (meta.head) is missing',
    });
  }
  if (head.seq > lastSeq) {
    return fail({
      kind: 'tail-truncated',
      seq: lastSeq + 1,
      message: `the chain head says ${head.seq} rows but the trail stops at row ${lastSeq}: row ${lastSeq + 1}${head.seq > lastSeq + 1 ? `..${head.seq}` : ''} deleted`,
    });
  }
  if (head.seq !== lastSeq || head.hash !== prev) {
    return fail({
      kind: 'head-mismatch',
      seq: lastSeq,
      message: `the chain head (seq ${head.seq}) does not match the last row (seq ${lastSeq})`,
    });
  }
  const beyond = [...pending.keys()].sort((a, b) => a - b)[0];
  if (beyond !== undefined) {
    const anchor = pending.get(beyond)![0]!;
    return fail({
      kind: 'anchor-mismatch',
      seq: beyond,
      anchor,
      message:
        lastSeq === 0
          ? `head ${formatAnchor(anchor)} kept elsewhere is not in the trail, which holds no record: the trail was emptied`
          : `head ${formatAnchor(anchor)} kept elsewhere is not in the trail, which stops at row ${lastSeq}: row ${lastSeq + 1}${beyond > lastSeq + 1 ? `..${beyond}` : ''} deleted and the head record rewritten`,
    });
  }
  return { ok: true, file, rows: count, head: { seq: lastSeq, hash: prev } };
}

/**
 * One link of the chain: does `row` follow the row `previous` names (seq 0 and the genesis hash
 * before the first row)? The walk above checks every row this way, and so does whoever receives
 * the rows one by one (the depot of a fleet collector, depot.ts): one rule, one place.
 */
export function checkLink(
  previous: ChainAnchor,
  row: EventRow,
  hashOf: RowHasher,
): VerifyProblem | undefined {
  const expected = previous.seq + 1;
  if (row.seq !== expected) {
    return {
      kind: 'missing-rows',
      seq: expected,
      message:
        row.seq > expected
          ? `row ${expected}${row.seq - 1 > expected ? `..${row.seq - 1}` : ''} missing (deleted): the next row is ${row.seq}`
          : `row ${row.seq} is out of sequence (expected ${expected})`,
    };
  }
  if (row.prev_hash !== previous.hash) {
    return {
      kind: 'link-broken',
      seq: row.seq,
      message: `row ${row.seq} does not chain to row ${row.seq - 1} (prev_hash differs): row ${row.seq - 1} or ${row.seq} was altered`,
    };
  }
  if (!EVENT_TYPES.includes(row.type as EventType) || !isJson(row.payload)) {
    return {
      kind: 'bad-row',
      seq: row.seq,
      message: `row ${row.seq} has an unknown type or a payload that is not JSON`,
    };
  }
  if (hashOf(row.prev_hash, row) !== row.hash) {
    return {
      kind: 'hash-mismatch',
      seq: row.seq,
      message: `row ${row.seq} was edited (its hash does not match its content)`,
    };
  }
  return undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
