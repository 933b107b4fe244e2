/** TSP/1 numeric limits, in one place so the daemon, the mock and the docs agree. */

/** Bytes a line may hold before its terminator (ID and CRC included). */
export const MAX_LINE_BYTES = 512;
/** An ID is 1 to 8 decimal digits. */
export const MAX_ID_DIGITS = 8;
/** Replies the terminal keeps per connection for at-most-once replay. */
export const REPLAY_CACHE_SIZE = 16;
/** An echoed key (400 `key=`, `unknown-key`) or check name: at most this many bytes as written. */
export const MAX_ECHOED_KEY = 64;
/** `hint` and `msg` reply fields: at most this many bytes as written (quotes included), printable ASCII. */
export const MAX_FREE_TEXT = 120;
/** `model`, `sn` and `fw` reply fields (bare tokens): at most this many characters. */
export const MAX_IDENTITY_TEXT = 32;
/** A login ends after this long without a received line. */
export const LOGIN_IDLE_SECONDS = 300;
export const DEFAULT_BAUD = 115200;
export const PROTOCOL_VERSION = 1;
