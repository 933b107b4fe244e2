# An independent bare-loop client for the pty figure of docs/performance.md section 2 (issue 12):
# written from docs/protocol.md alone (framing, CRC-16/CCITT-FALSE), sharing no code with
# posbridge or the bench peers. STATUS round trips on PTY for SECONDS, then the rate.
#   python3 bench/check/independent-loop.py PTY SECONDS
import os, select, sys, time, fcntl, termios, tty
def crc16(b):
    c = 0xFFFF
    for x in b:
        c ^= x << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
    return c
path, secs = sys.argv[1], float(sys.argv[2])
fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
tty.setraw(fd)
buf, n, i = b"", 0, 1
t0 = time.monotonic()
while time.monotonic() - t0 < secs:
    body = b"@%d STATUS" % i
    os.write(fd, body + b" *%04X\r\n" % crc16(body))
    want = b"@%d " % i
    while True:
        select.select([fd], [], [])
        buf += os.read(fd, 4096)
        lines = buf.split(b"\r\n"); buf = lines.pop()
        if any(l.startswith(want) for l in lines): break
    n += 1; i += 1
el = time.monotonic() - t0
print(f"{n} round trips in {el:.2f} s = {n/el:.0f}/s")
