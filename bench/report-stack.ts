/** docs/performance.md, section 2: stack overhead, against the bare-loop peers on the same pty. */
import { n0, notRun, sectionLine, table, verdict, x } from './report-format.js';
import type { Section } from './run.js';
import type { PeerResults, StackCase, StackResults } from './stack-overhead.js';
import { PEER_RATIO_TARGET as PEER_RATIO } from './stack-overhead.js';

const PEER_LABEL: Record<PeerResults['kind'], string> = {
  python: 'pty, Python bare-loop peer (bench/peer/bare-loop.py)',
  c: 'pty, C bare-loop peer (bench/peer/bare-loop.c)',
};
const PEER_NAME: Record<PeerResults['kind'], string> = { python: 'the Python loop', c: 'the C loop' };

const LABEL: Record<StackCase['transport'], string> = {
  pty: 'pty, posbridge (production serial binding)',
  tcp: 'tcp://',
  'in-process': 'in-process binding (reference)',
};

export function stackSection(section: Section<StackResults> | undefined): string {
  const head = '## 2. Stack overhead\n';
  const missing = notRun('stack', section);
  if (missing) return `${head}\n${missing}\n`;
  const s = section!.results!;
  const pty = s.cases.find((c) => c.transport === 'pty');
  const tcp = s.cases.find((c) => c.transport === 'tcp');
  // Results from before the Python peer have one C peer under `peer`.
  const legacy = (s as { peer?: PeerResults }).peer;
  const peers: PeerResults[] = s.peers ?? (legacy ? [{ ...legacy, kind: 'c' }] : []);
  const peerErrors = s.peerErrors ?? [];
  const cpu = (v: number | undefined) => (v === undefined ? '—' : `${n0(v)}`);
  const rates = (r: { median: number; min: number; max: number }) =>
    `${n0(r.median)} (${n0(r.min)}–${n0(r.max)})`;
  const rows = s.cases.map((c) => [
    LABEL[c.transport] ?? c.transport,
    rates(c.roundTripsPerSecond),
    `${c.roundTripUs.toFixed(0)} µs`,
    cpu(c.hostCpuPerRoundTripUs),
    cpu(c.mockCpuPerRoundTripUs),
    cpu(c.bridgeCpuPerRoundTripUs),
    c.target !== undefined ? `≥ ${n0(c.target)}` : '—',
    verdict(c.met),
  ]);
  rows.splice(
    1,
    0,
    ...peers.map((peer) => [
      PEER_LABEL[peer.kind],
      rates(peer.roundTripsPerSecond),
      `${peer.roundTripUs.toFixed(0)} µs`,
      `${cpu(peer.peerCpuPerRoundTripUs)} (the peer's)`,
      cpu(peer.mockCpuPerRoundTripUs),
      cpu(peer.bridgeCpuPerRoundTripUs),
      peer.target !== undefined ? `posbridge / peer ≥ ${peer.target}` : '—',
      '',
    ]),
  );
  const ratioLines = peers
    .map(
      (peer) => `
**posbridge / ${PEER_NAME[peer.kind]} on the same pty: ${x(peer.ratio.median)}** (each posbridge window against that peer's window
in the same round; ${x(peer.ratio.min)}–${x(peer.ratio.max)} over ${peer.ratio.n} pairs)${
        peer.target !== undefined
          ? `, target ≥ ${peer.target}: ${verdict(peer.met)}`
          : ', for reference (no target: it shows how far the stack is from the kernel and the mock alone)'
      }. The peer runs as ${peer.program}.
`,
    )
    .join('');
  const errorLines = peerErrors.map((e) => `\n_A bare-loop peer did not run: ${e}._\n`).join('');
  const ratioLine = ratioLines + errorLines;
  return `${head}
${sectionLine(section!)}

**What is measured.** Round trips per second of STATUS (what the daemon's heartbeat sends), one
request in flight, through the real Session and TerminalDriver, against an unpaced mock terminal
(baud 0: the wire costs nothing, only software does). Over the **pty** the host uses posbridge's
production serial binding (bindings-cpp opens, locks and sets the port; reads and writes happen on
the poller's readiness, src/host/ports/readiness-io.ts) on a pseudo-terminal whose other end is the
mock's python3 bridge; over **tcp://** it connects to the mock's TCP listener; in both the mock runs in
a process of its own (bench/mock-farm.ts), as a device would. Two **bare-loop peers** do the same
round trips on the same pty against the same mock (the same bytes, IDs and CRCs), their windows
interleaved with posbridge's (posbridge, Python peer, C peer, posbridge...; each opens the port,
warms up with ${String(section!.config.warmup ?? 300)} round trips, and lets go of it for the next): the **Python peer**
(bench/peer/bare-loop.py: \`os.write\`, \`select\`, \`os.read\`, about 30 lines) is the one issue 12 names
as the peer, so **the ≥ ${PEER_RATIO} target is judged against it**; the **C peer** (bench/peer/bare-loop.c:
write, poll, read) puts nothing in front of the kernel and the mock, so posbridge / C peer shows the
whole gap that is left, for reference. The **in-process** binding, with the mock in the same process, is
the reference: no kernel, no second process. ${String(section!.config.windows)} windows of ${String(section!.config.windowMs)} ms per transport,
interleaved; median window. CPU time per round trip is this process's (\`process.cpuUsage\`, all its
threads), the peer's (\`getrusage\`), and the mock's and the bridge's from /proc.

${table(
  [
    'transport',
    'round trips/s, median (min–max)',
    'time per round trip',
    'host CPU µs',
    'mock CPU µs',
    'bridge CPU µs',
    'target',
    '',
  ],
  rows,
)}
${ratioLine}${pty ? limits(pty, tcp, peers) : ''}`;
}

/** Where the time of a round trip goes, from the CPU figures; and what would close a miss. */
function limits(pty: StackCase, tcp: StackCase | undefined, peers: PeerResults[]): string {
  // The leanest peer shows best what the rig's side costs; the target's peer says whether it is met.
  const peer = peers.find((p) => p.kind === 'c') ?? peers[0];
  const judged = peers.find((p) => p.target !== undefined);
  const cpu = (v: number | undefined) => n0(v ?? 0);
  const out: string[] = [];
  out.push(`
**What limits it.** A round trip is sequential through every process on its way: the host, the kernel's
pty, the python bridge, a pipe, the mock's process and back; it takes at least the CPU spent along the
path plus the wake-ups between them, and on a busy machine each wake-up also waits for a free core.
posbridge's host spends ${cpu(pty.hostCpuPerRoundTripUs)} µs of CPU per round trip over the pty${
    tcp
      ? ` (${cpu(tcp.hostCpuPerRoundTripUs)} µs over TCP, the same
Session and TerminalDriver)`
      : ''
  }.`);
  if (peer) {
    const mockSide = peer.mockCpuPerRoundTripUs + peer.bridgeCpuPerRoundTripUs;
    const pathCpu = mockSide + peer.peerCpuPerRoundTripUs;
    out.push(` With ${PEER_NAME[peer.kind]} in its place the host's share drops to ${cpu(peer.peerCpuPerRoundTripUs)} µs, while the mock
process (${cpu(peer.mockCpuPerRoundTripUs)} µs) and the bridge (${cpu(peer.bridgeCpuPerRoundTripUs)} µs) spend ${cpu(mockSide)} µs: ${Math.round((mockSide / pathCpu) * 100)} % of the CPU on the
peer's path and ${Math.round((mockSide / peer.roundTripUs) * 100)} % of its ${cpu(peer.roundTripUs)} µs round trip. ${
      mockSide / peer.roundTripUs > 0.5
        ? 'The mock side is the bottleneck of every loop here: its python bridge and Node process, which a real\nterminal does not have, set the pace.'
        : 'The mock side is not the main cost of the round trip here: the hops between processes are.'
    } In front of a real USB serial adapter only the host's share would
remain: about ${n0(1e6 / Math.max(1, pty.hostCpuPerRoundTripUs))} round trips/s of CPU for posbridge on this machine.`);
  }
  const missed = pty.met === false || judged?.met === false;
  if (missed) {
    out.push(`

**Missed** (${[
      pty.met === false ? `${n0(pty.roundTripsPerSecond.median)}/s over the pty` : '',
      judged?.met === false ? `${x(judged.ratio.median)} of ${PEER_NAME[judged.kind]}` : '',
    ]
      .filter(Boolean)
      .join('; ')}). What would close it:

- **Fewer hops on the rig's side.** The loops share the mock's bridge and process; a faster rig (the
  mock's pty without the python bridge: a native helper, or the mock on a real serial pair) raises
  the ceiling for all and leaves posbridge's own ${cpu(pty.hostCpuPerRoundTripUs)} µs as the difference.
- **Less work per round trip in the host** (section 5 shows where it goes): every microsecond of host
  CPU is a microsecond of the round trip, since nothing overlaps with one request in flight.
- **A quiet machine**: every hop waits for a core when the machine is loaded.`);
  }
  out.push(`

The stack itself is not what limits a terminal: at 115200 baud one STATUS exchange (about 130 bytes)
takes about 11 ms on the wire, fifty times the 200 µs per round trip that 5,000/s allows.
`);
  return out.join('');
}
