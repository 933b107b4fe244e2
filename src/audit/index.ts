/**
 * The audit trail: a hash-chained, append-only record of every run and step, in SQLite.
 * See store.ts for the guarantees and their limits.
 */
export {
  type AnchorLines,
  formatAnchor,
  isAnchor,
  parseAnchor,
  parseAnchorLines,
  type SourcedAnchor,
} from './anchor.js';
export { canonicalJson, type JsonObject, type JsonValue } from './canonical.js';
export { type CsvOptions, spreadsheetText, TEXT_MARK, toCsv, toJson } from './csv.js';
export {
  type DepotAccept,
  type DepotOptions,
  type DepotProblemKind,
  type DepotRefusal,
  type DepotStation,
  DepotStore,
} from './depot.js';
export { isDepotFile } from './depot-file.js';
export { AuditError, type AuditErrorCode, isAuditError } from './errors.js';
export { AUDIT_FILE_NAME, defaultAuditPath } from './paths.js';
export { recordOfRow, rowHash, rowOfRecord } from './record.js';
export { GENESIS_HASH, SCHEMA_VERSION } from './schema.js';
export { assertNoSecrets, isSecretKey } from './scrub.js';
export {
  AuditStore,
  type AuditStoreOptions,
  chainHash,
  DEFAULT_BUSY_TIMEOUT_MS,
  type HeadWitness,
} from './store.js';
export * from './types.js';
export { checkLink } from './verify.js';
export { AuditWitness, type AuditWitnessOptions, readAnchorFile } from './witness.js';
