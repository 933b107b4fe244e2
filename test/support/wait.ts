/**
 * Waiting on events in tests. Timeouts here are safety nets that turn a hang into a clear
 * failure; no test waits for a fixed time to let something happen.
 */
export const SAFETY_TIMEOUT_MS = 5000;

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export async function deadline<T>(promise: Promise<T>, what: string, ms = SAFETY_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Accumulates bytes and lets a test wait until they satisfy a condition. */
export class ByteSink {
  private chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];

  readonly push = (bytes: Uint8Array): void => {
    this.chunks.push(Buffer.from(bytes));
    for (const wake of this.waiters.splice(0)) wake();
  };

  get bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** The bytes as latin1 text: one character per byte, so CR and LF stay visible as themselves. */
  get text(): string {
    return this.bytes.toString('latin1');
  }

  async waitFor(done: (bytes: Buffer) => boolean, what: string, ms = SAFETY_TIMEOUT_MS): Promise<Buffer> {
    const check = async (): Promise<Buffer> => {
      while (!done(this.bytes)) await new Promise<void>((wake) => this.waiters.push(wake));
      return this.bytes;
    };
    return deadline(check(), `${what} (have ${JSON.stringify(this.text)})`, ms);
  }

  /** Waits until at least `length` bytes arrived, and returns them all as text. */
  async waitForLength(length: number, what: string, ms = SAFETY_TIMEOUT_MS): Promise<string> {
    await this.waitFor((bytes) => bytes.length >= length, what, ms);
    return this.text;
  }
}
