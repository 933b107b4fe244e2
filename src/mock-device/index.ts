/**
 * The mock terminal: a faithful TSP/1 device for demos and CI, with faults as composable
 * behaviours. Transports (in-process serialport binding, pty, TCP) live in ./transports and hand
 * it DeviceLinks; nothing here imports src/host.
 */
export type {
  ConnectionInfo,
  Direction,
  MockBehaviour,
  OutgoingLine,
  RequestInfo,
  RequestPlan,
} from './behaviour.js';
export { unrefTimers } from './clock.js';
export { type DiagFaults, formatDiagFaults, parseDiagFaults } from './diag-faults.js';
export { isMockConfigError, MockConfigError, type MockConfigErrorCode } from './errors.js';
export {
  busyFor,
  corruptLines,
  createFaultBehaviours,
  delayReplies,
  dropReplies,
  FAULT_KINDS,
  FAULTS,
  type FaultKind,
  type FaultSpec,
  formatFault,
  parseFaultSpec,
  rebootAt,
  silentAfter,
  spuriousEvents,
  VIOLATION_NAMES,
  VIOLATIONS,
  type Violation,
  violate,
} from './faults/index.js';
export { FileStateStore } from './file-state-store.js';
export { HostSession, MockHarness } from './harness.js';
export { DEFAULT_IDENTITY } from './identity.js';
export type { DeviceLink, LinkHandler } from './link.js';
export { type MockLogger, silentLogger } from './logger.js';
export { createMemoryLink, type MemoryHostEnd, type MemoryLink } from './memory-link.js';
export { DEFAULT_REBOOT_MS, DEFAULT_SEED, type MockTerminalOptions } from './options.js';
export { createRandom, type Random } from './prng.js';
export type {
  RecordedExecution,
  RecordedLine,
  RecordedRequest,
  Recording,
  RequestOutcome,
} from './recording.js';
export type { PersistentState } from './state.js';
export { MemoryStateStore, type StateStore } from './state-store.js';
export { MockTerminal } from './terminal.js';
