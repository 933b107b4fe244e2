/**
 * A pulled cable: the first connection whose traffic passes `bytes` (received, sent, or both,
 * counted from when it opened) is cut exactly there. Bytes beyond the limit are neither processed
 * nor sent, and the terminal closes the link (so the host sees the disconnect it would see when a
 * USB cable comes out). It fires once per mock: the technician plugs the cable back in and the
 * re-run resumes on a working line.
 */
import type { Direction, MockBehaviour } from '../behaviour.js';

export function silentAfter(bytes: number, direction: 'both' | Direction = 'both'): MockBehaviour {
  const counted = new Map<number, number>();
  let fired = false;
  const key = direction === 'in' ? 'rx' : direction === 'out' ? 'tx' : 'bytes';
  return {
    name: `silent-after:${key}=${bytes}`,
    onBytes(connection, dir, count) {
      if (fired || (direction !== 'both' && direction !== dir)) return undefined;
      const sofar = counted.get(connection.id) ?? 0;
      const room = bytes - sofar;
      if (count <= room) {
        counted.set(connection.id, sofar + count);
        return undefined;
      }
      fired = true;
      counted.clear();
      return Math.max(0, room);
    },
    onClose(connection) {
      counted.delete(connection.id);
    },
  };
}
