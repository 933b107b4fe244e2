/**
 * A small VT100 screen: what a person would see after the bytes a program wrote to a terminal.
 * It knows what readline and posbridge write: printable text (wrapping at the width), CR, LF,
 * BS (LF as CR LF, as the tty driver writes it), and CSI sequences moving the cursor (A B C D G H) and erasing (J K); colours and anything
 * else are ignored. Enough to check that a secret typed and echoed is no longer on the screen.
 */
export function screenAfter(output: string, columns = 80): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (r: number): string[] => {
    while (rows.length <= r) rows.push([]);
    return rows[r]!;
  };
  let i = 0;
  while (i < output.length) {
    const ch = output[i]!;
    if (ch === '\u001b' && output[i + 1] === '[') {
      const match = /^\u001b\[([?0-9;]*)([A-Za-z])/.exec(output.slice(i));
      if (!match) break;
      i += match[0].length;
      const n = Number.parseInt(match[1]!.replace('?', '') || '0', 10);
      const count = Math.max(1, n);
      switch (match[2]) {
        case 'A':
          row = Math.max(0, row - count);
          break;
        case 'B':
          row += count;
          break;
        case 'C':
          col += count;
          break;
        case 'D':
          col = Math.max(0, col - count);
          break;
        case 'G':
          col = Math.max(0, count - 1);
          break;
        case 'H':
          row = 0;
          col = 0;
          break;
        case 'K':
          if (n === 0) line(row).length = Math.min(line(row).length, col);
          else line(row).length = 0;
          break;
        case 'J':
          if (n === 0) {
            line(row).length = Math.min(line(row).length, col);
            rows.length = row + 1;
          } else rows.length = 0;
          break;
        default:
          break;
      }
      continue;
    }
    i++;
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      // A terminal's line discipline (ONLCR) turns LF into CR LF.
      row++;
      col = 0;
    } else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch >= ' ') {
      if (col >= columns) {
        row++;
        col = 0;
      }
      const cells = line(row);
      while (cells.length < col) cells.push(' ');
      cells[col] = ch;
      col++;
    }
  }
  return rows.map((cells) => cells.join('').trimEnd());
}
