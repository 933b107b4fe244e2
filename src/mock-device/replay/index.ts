/**
 * Replaying wire traces: `posbridge mock --replay TRACE` (ReplayTerminal plays a trace's terminal
 * side) and golden transcripts (test/fixtures/transcripts: a trace plus a header saying how to
 * replay its host side against a fresh mock). docs/evidence.md, "Transcripts".
 */
export {
  REPLAY_MISMATCH_MSG,
  type ReplayOptions,
  type ReplayProgress,
  ReplayTerminal,
} from './replay-terminal.js';
export {
  fieldValues,
  formatTraceEntry,
  parseTrace,
  type TraceDirection,
  type TraceEntry,
  type TraceFile,
  TraceFormatError,
} from './trace-file.js';
export {
  hostLines,
  maskedCount,
  playHostSide,
  readTranscript,
  type StdinStep,
  type Transcript,
  TranscriptError,
  terminalLines,
  unmask,
} from './transcript.js';
export {
  leadingId,
  matchKey,
  type Readdress,
  readdress,
  retimeUtc,
  tracedForm,
  VOLATILE_FIELDS,
} from './wire.js';
