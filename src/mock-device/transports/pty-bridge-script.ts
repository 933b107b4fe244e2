/**
 * The python3 helper behind the pty transport, kept as a string so the build (plain tsc) needs
 * no extra copy step. It runs as `python3 -I -S -c SCRIPT LINK_PATH` (standard library only).
 *
 * Why a python child: Node cannot open a pseudo-terminal without a native addon, and socat is not
 * installed by default on Debian; python3 is, with pty, termios and (through ctypes) inotify.
 *
 * What it does:
 * - owns the pty master; the slave is put in raw mode (no echo, no CR/LF translation, 8 bits)
 *   and then closed, so that the master reports a hang-up whenever no host has the slave open;
 * - detects each host open through inotify IN_OPEN on the slave's /dev/pts node, and each end
 *   of a host's session through the master's hang-up (read gives EIO once every slave fd is
 *   closed, after the host's last bytes); inotify IN_CLOSE counts open file descriptions so that
 *   a close followed by an immediate reopen still counts as two sessions;
 * - without inotify (not glibc, no ctypes) it falls back to checking the hang-up every 50 ms;
 * - on a hang-up request from Node (the terminal pulled the cable), creates a new pty (Node points
 *   the link path at its slave) and closes the old master, which the host sees as a dead line;
 * - exits when its stdin closes (Node is gone) after removing the link if it still points to its
 *   slave, and ignores SIGINT (a Ctrl-C in the shell reaches the whole process group: Node decides).
 *
 * Framing, child -> Node on stdout: kind (1 byte) + length (u32 BE) + payload.
 *   P slave-path   a new slave exists (at start, and after each hang-up request)
 *   O gen (u32)    a host opened the slave: link number gen starts
 *   D bytes        bytes the host wrote, for the current link
 *   C gen (u32)    link gen ended
 * Node -> child on stdin: kind (1 byte) + gen (u32 BE) + length (u32 BE) + payload.
 *   D bytes        bytes for the host of link gen (dropped if that link has ended)
 *   H              hang up link gen (ignored if that link has ended)
 */
// biome-ignore lint/complexity/noUselessStringRaw: keeps any backslash added to the python verbatim
export const PTY_BRIDGE_SCRIPT = String.raw`
import errno, os, select, signal, struct, sys, termios

LINK = sys.argv[1] if len(sys.argv) > 1 else ''
IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN, IN_Q_OVERFLOW = 0x08, 0x10, 0x20, 0x4000
# Host-bound bytes held here before we stop reading stdin (Node then buffers, bounded on its side).
HIGH_WATER = 65536

signal.signal(signal.SIGINT, signal.SIG_IGN)

def out(kind, payload=b''):
    view = memoryview(kind + struct.pack('>I', len(payload)) + payload)
    while view:
        view = view[os.write(1, view):]

def make_raw(fd):
    # cfmakeraw, plus 115200 baud for programs that display it (a pty ignores the speed).
    a = termios.tcgetattr(fd)
    a[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP | termios.INLCR
              | termios.IGNCR | termios.ICRNL | termios.IXON | termios.IXOFF)
    a[1] &= ~termios.OPOST
    a[2] = (a[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    a[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    a[4] = a[5] = termios.B115200
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)

try:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    ifd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
except Exception:
    libc, ifd = None, -1

master, slave_name, wd = -1, '', -1
connected, gen, opens, hosts_gone = False, 0, 0, False
pending = bytearray()

def new_pty():
    global master, slave_name, wd
    m, s = os.openpty()
    try:
        make_raw(s)
        name = os.ttyname(s)
    finally:
        os.close(s)
    os.set_blocking(m, False)
    master, slave_name = m, name
    wd = -1
    if ifd >= 0:
        wd = libc.inotify_add_watch(ifd, name.encode(), IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)
        if wd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_add_watch failed on ' + name)
    out(b'P', name.encode())

def hung_up():
    p = select.poll()
    p.register(master, select.POLLIN)
    return any(ev & select.POLLHUP for _, ev in p.poll(0))

def connect():
    global connected, gen, hosts_gone
    gen += 1
    connected, hosts_gone = True, False
    out(b'O', struct.pack('>I', gen))

def disconnect(flush=True):
    global connected, pending
    connected, pending = False, bytearray()
    if flush:
        try:
            # Replies the host never read must not greet the next host.
            termios.tcflush(master, termios.TCOFLUSH)
        except OSError:
            pass
    out(b'C', struct.pack('>I', gen))

def pump_master():
    # Forwards what the host wrote; True once every slave fd is closed (EIO comes after the data).
    while True:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno == errno.EIO:
                return True
            raise
        if not data:
            return True
        out(b'D', data)

def host_ended():
    global opens
    disconnect()
    opens = 0

def hangup():
    global opens
    old_master, old_wd = master, wd
    # The new slave first (P before C): by the time the terminal hears that the link ended, the
    # link path already leads to a port that can be opened again.
    new_pty()
    if old_wd >= 0:
        libc.inotify_rm_watch(ifd, old_wd)
    # Closing the old master is what the host sees: its line is dead, as if the cable was pulled.
    # Closed before C is announced, so whoever hears C finds the old line already dead.
    os.close(old_master)
    disconnect(flush=False)
    opens = 0

def on_inotify():
    global opens, hosts_gone
    try:
        buf = os.read(ifd, 65536)
    except BlockingIOError:
        return
    off = 0
    while off + 16 <= len(buf):
        w, mask, _cookie, size = struct.unpack_from('iIII', buf, off)
        off += 16 + size
        if mask & IN_Q_OVERFLOW:
            opens = 0 if hung_up() else 1
            if opens and not connected:
                connect()
        elif w != wd:
            continue
        elif mask & IN_OPEN:
            opens += 1
            if not connected:
                connect()
            elif hosts_gone:
                # Every host had closed and a new one opened before the hang-up was seen.
                pump_master()
                disconnect()
                connect()
        elif mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE):
            opens = max(0, opens - 1)
            if opens == 0 and connected:
                hosts_gone = True

def on_stdin(inbuf):
    while len(inbuf) >= 9:
        kind, fgen, size = inbuf[0:1], *struct.unpack_from('>II', inbuf, 1)
        if len(inbuf) < 9 + size:
            break
        payload = bytes(inbuf[9:9 + size])
        del inbuf[:9 + size]
        if not connected or fgen != gen:
            continue
        if kind == b'D':
            pending.extend(payload)
        elif kind == b'H':
            hangup()

def flush_pending():
    try:
        n = os.write(master, pending)
        del pending[:n]
    except BlockingIOError:
        pass
    except OSError as e:
        if e.errno != errno.EIO:
            raise
        pending.clear()

def cleanup():
    try:
        if LINK and os.readlink(LINK) == slave_name:
            os.unlink(LINK)
    except OSError:
        pass

def main():
    new_pty()
    inbuf = bytearray()
    while True:
        rl = [ifd] if ifd >= 0 else []
        if len(pending) < HIGH_WATER:
            rl.append(0)
        if connected:
            rl.append(master)
        wl = [master] if connected and pending else []
        timeout = None if ifd >= 0 or connected else 0.05
        r, w, _ = select.select(rl, wl, [], timeout)
        if 0 in r:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            inbuf.extend(chunk)
            on_stdin(inbuf)
        if ifd >= 0 and ifd in r:
            on_inotify()
        elif ifd < 0 and not connected and not hung_up():
            connect()
        if connected and pump_master():
            host_ended()
        if connected and pending:
            flush_pending()

try:
    main()
except BrokenPipeError:
    pass
finally:
    cleanup()
`;
