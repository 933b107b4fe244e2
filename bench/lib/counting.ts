/**
 * Counts the requests the host writes, whatever the transport: each request is one write of one
 * line (src/host/session.ts), so the writes are the exchanges (retransmissions included).
 */
import type { PortFactory, Transport } from '../../src/host/ports/index.js';

export interface WriteCounter {
  writes: number;
}

export function countingFactory(factory: PortFactory, counter: WriteCounter): PortFactory {
  return {
    async open(name, options): Promise<Transport> {
      const transport = await factory.open(name, options);
      const write = transport.write.bind(transport);
      return Object.assign(transport, {
        write(bytes: Uint8Array) {
          counter.writes++;
          return write(bytes);
        },
      });
    },
  };
}
