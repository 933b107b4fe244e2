/**
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR.
 * Check value: "123456789" -> 0x29B1. TSP/1 writes it as four upper-case hex digits.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC over bytes, or over a string's char codes (TSP/1 lines are ASCII, one char per byte). */
export function crc16(data: Uint8Array | string): number {
  let crc = 0xffff;
  const length = data.length;
  for (let i = 0; i < length; i++) {
    const byte = typeof data === 'string' ? data.charCodeAt(i) & 0xff : data[i]!;
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc;
}

/** Four upper-case hex digits, as written on the wire. */
export function formatCrc(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}
