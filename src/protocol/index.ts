/** TSP/1, the Terminal Service Protocol: pure framing, codec and tables. No I/O. */
export * from './coded-error.js';
export * from './commands.js';
export * from './crc16.js';
export * from './diagnostics.js';
export * from './errors.js';
export * from './identity.js';
export * from './limits.js';
export * from './line.js';
export * from './mask.js';
export * from './password-policy.js';
export * from './reply.js';
export * from './reply-codecs.js';
export type {
  Decoded,
  FieldList,
  InputOf,
  ReceivedFields,
  ReplyProblem,
  ReplyShape,
  ShapeInput,
  ShapeValue,
  ValueOf,
} from './reply-shape.js';
export * from './request.js';
export * from './secret-keys.js';
export * from './settings.js';
export * from './splitter.js';
export * from './splitter-stream.js';
export * from './time.js';
export * from './trace-text.js';
export * from './validators.js';
export * from './value-codec.js';
export * from './virtual-clock.js';
