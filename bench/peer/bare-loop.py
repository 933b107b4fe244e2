"""The peer issue 12 names: a small Python loop (os.write / select / os.read) doing STATUS round
trips on the same pty as posbridge, against the same mock (docs/performance.md, stack overhead).
Same bytes, IDs, CRCs and stdin/stdout protocol as bare-loop.c: `bare-loop.py PATH WARMUP`,
prints `warm`, then per `go MS` one JSON line {"count","elapsedMs","cpuUs"}; `quit` exits."""
import fcntl, json, os, select, sys, termios, time, tty

fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
tty.setraw(fd)
attrs = termios.tcgetattr(fd)
attrs[2] |= termios.CLOCAL | termios.CREAD
attrs[4] = attrs[5] = termios.B115200
termios.tcsetattr(fd, termios.TCSANOW, attrs)
buffer, next_id = b"", 1


def crc16(data):  # CRC-16/CCITT-FALSE, as docs/protocol.md
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def round_trip():
    global buffer, next_id
    body = b"@%d STATUS" % next_id
    prefix = b"@%d " % next_id
    next_id = 1 if next_id >= 99999999 else next_id + 1
    line = body + b" *%04X\r\n" % crc16(body)
    while line:  # a pty takes a 20-byte line at once; EAGAIN would raise, as a bug in the rig
        line = line[os.write(fd, line):]
    while True:
        while b"\n" in buffer:
            reply, buffer = buffer.split(b"\n", 1)
            if reply.startswith(prefix):
                if not reply[len(prefix):].startswith(b"OK"):
                    sys.exit(f"bare-loop.py: not an OK: {reply!r}")
                return
        select.select([fd], [], [])
        chunk = os.read(fd, 4096)
        if not chunk:
            sys.exit("bare-loop.py: read returned 0 bytes (hang-up)")
        buffer += chunk


for _ in range(int(sys.argv[2])):
    round_trip()
print("warm", flush=True)
for command in sys.stdin:
    if not command.startswith("go "):
        break
    window = float(command.split()[1])
    cpu0, t0, count = time.process_time(), time.monotonic(), 0
    while True:
        for _ in range(50):  # 50 at a time between clock reads, as the posbridge side does
            round_trip()
        count += 50
        elapsed = (time.monotonic() - t0) * 1000
        if elapsed >= window:
            break
    cpu = (time.process_time() - cpu0) * 1e6
    print(json.dumps({"count": count, "elapsedMs": round(elapsed, 3), "cpuUs": round(cpu)}), flush=True)
os.close(fd)
