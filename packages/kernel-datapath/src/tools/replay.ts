/**
 * Replay a golden capture (real OVS userspace <-> the real Linux module)
 * against a fresh model: send every to-kernel request of the capture from a
 * socket with the same port id, and compare what the model answers with what
 * the real kernel answered, message by message, byte for byte after a
 * normalisation that only maps values that legitimately differ between two
 * kernels (listed in NORMALISATIONS).
 */
import { type Message, NetlinkProtocol, decode, encode, formatMessage, newFamilyTable, type FamilyTable } from '@ovs/genl-codec';
import { Kernel } from '../kernel.js';
import type { KernelSocket } from '../net/netlink/af_netlink.js';
import { IFF, RTNLGRP_LINK } from '@ovs/genl-codec';

export const NORMALISATIONS = [
  'ifindexes: the model numbers devices its own way; each captured ifindex is mapped to the model one it first pairs with (ovs_header.dp_ifindex, OVS_VPORT_ATTR_IFINDEX, ifinfomsg.ifi_index, also inside echoed requests), consistently for the whole capture, and requests are rewritten through that map',
  'statistics: OVS_VPORT_ATTR_STATS, OVS_DP_ATTR_STATS and OVS_DP_ATTR_MEGAFLOW_STATS counters, IFLA_STATS/IFLA_STATS64 (traffic the model does not see)',
  'MAC addresses: IFLA_ADDRESS / IFLA_BROADCAST / IFLA_PERM_ADDRESS of created devices (random on Linux)',
  'copies: one notification delivered to several listening sockets appears once per socket in a capture; identical consecutive copies count once on both sides',
  'not modelled: kernel-originated upcalls (OVS_PACKET_CMD_MISS) and NETLINK_NETFILTER requests are skipped',
];

export interface ReplayOptions {
  /** Print each message of failing exchanges. */
  verbose?: boolean;
  /** Port ids of sockets opened without CAP_NET_ADMIN (default: read from the capture's notes). */
  unprivileged?: number[];
}

export interface ReplayReport {
  lines: string[];
  passed: number;
  failed: number;
  skipped: number;
  normalisations: string[];
}

interface CaptureMessage {
  dir: string;
  protocol: string;
  cmd?: string | null;
  hex: string;
  seq: number;
  pid: number;
  note?: string;
}

interface Capture {
  scenario?: string;
  families?: Record<string, { id: number; mcast_groups?: Record<string, number> }>;
  setup?: { devices?: Array<{ name: string; kind: string; peer?: string; up?: boolean }> };
  messages: CaptureMessage[];
}

const PROTOCOLS: Record<string, number> = { NETLINK_ROUTE: 0, NETLINK_GENERIC: 16, NETLINK_NETFILTER: 12 };

interface Exchange {
  request: CaptureMessage;
  index: number;
  answers: CaptureMessage[];
}

/** Pair every request with the kernel messages that answer it (same port id and sequence number). */
function exchanges(capture: Capture): Exchange[] {
  const out: Exchange[] = [];
  const open = new Map<string, Exchange>();
  capture.messages.forEach((m, index) => {
    const key = `${m.protocol}/${m.pid}/${m.seq}`;
    if (m.dir === 'to-kernel') {
      const ex = { request: m, index, answers: [] };
      out.push(ex);
      open.set(key, ex);
    } else {
      open.get(key)?.answers.push(m);
    }
  });
  return out;
}

function assertCapture(c: unknown): asserts c is Capture {
  if (c === null || typeof c !== 'object' || !Array.isArray((c as Capture).messages)) {
    throw new TypeError('not a golden capture: expected an object with a "messages" array');
  }
}

export function replayCapture(input: unknown, opts: ReplayOptions = {}): ReplayReport {
  assertCapture(input);
  const capture = input;
  const fam = capture.families ?? {};
  const kernel = new Kernel({
    firstFamilyId: fam.ovs_datapath?.id ?? 32,
    firstMcastGroup: fam.ovs_datapath?.mcast_groups?.ovs_datapath ?? 9,
  });
  setUpDevices(kernel, capture);
  const unprivileged = new Set(
    opts.unprivileged ?? capture.messages.filter((m) => m.dir === 'to-kernel' && /unprivileged/i.test(m.note ?? '')).map((m) => m.pid),
  );
  const sockets = new Map<string, KernelSocket>();
  const socketFor = (protocol: number, pid: number): KernelSocket => {
    const key = `${protocol}/${pid}`;
    let s = sockets.get(key);
    if (s === undefined) {
      const taken = [...kernel.openSockets].some((x) => x.portId === pid);
      s = kernel.socket({ protocol, portId: taken ? undefined : pid, capNetAdmin: !unprivileged.has(pid) });
      sockets.set(key, s);
    }
    return s;
  };
  // One listener per protocol, in every OVS multicast group: captures show the notifications listeners got.
  const genlListener = kernel.socket({ protocol: NetlinkProtocol.NETLINK_GENERIC });
  for (const f of kernel.genl.families) for (const g of f.mcgrps) if (f.def.name.startsWith('ovs_')) void genlListener.joinGroup(g.id);
  // ovs-vswitchd listens to RTNLGRP_LINK: a link deleted at its request comes back to it with its pid and seq.
  const routeListener = kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE });
  void routeListener.joinGroup(RTNLGRP_LINK);

  const ifmap = new Map<number, number>();
  const families = newFamilyTable(Object.fromEntries(Object.entries(fam).map(([k, v]) => [k, v.id])));
  const report: ReplayReport = { lines: [], passed: 0, failed: 0, skipped: 0, normalisations: NORMALISATIONS };

  for (const ex of exchanges(capture)) {
    const protocol = PROTOCOLS[ex.request.protocol];
    const label = `#${ex.index} ${ex.request.protocol.replace('NETLINK_', '')} pid ${ex.request.pid} seq ${ex.request.seq} ${ex.request.cmd ?? ''}`;
    if (protocol === undefined || protocol === NetlinkProtocol.NETLINK_NETFILTER) {
      report.skipped++;
      report.lines.push(`skip ${label}: protocol not modelled`);
      continue;
    }
    let sock: KernelSocket;
    try {
      sock = socketFor(protocol, ex.request.pid);
    } catch (err) {
      report.skipped++;
      report.lines.push(`skip ${label}: ${(err as Error).message}`);
      continue;
    }
    const request = rewriteRequest(Buffer.from(ex.request.hex, 'hex'), protocol, ifmap);
    sock.sendSync(request);
    const listener = protocol === NetlinkProtocol.NETLINK_GENERIC ? genlListener : routeListener;
    const got = [...drain(listener, protocol, families, ex.request), ...drain(sock, protocol, families, ex.request)];
    const model = collapse(got);
    const captured = collapse(ex.answers.map((a) => Uint8Array.from(Buffer.from(a.hex, 'hex'))).map((b) => decodeOne(b, protocol, families)));
    const diff = compare(captured, model, ifmap, families);
    const what = summarise(model.map((m) => describe(m)));
    if (diff === undefined) {
      report.passed++;
      report.lines.push(`ok   ${label} -> ${what}`);
    } else {
      report.failed++;
      report.lines.push(`FAIL ${label} -> ${what}: ${diff}`);
      if (opts.verbose) {
        for (const m of captured) report.lines.push(`  captured: ${formatMessage(m, families).replace(/\n/g, '\n            ')}`);
        for (const m of model) report.lines.push(`  model:    ${formatMessage(m, families).replace(/\n/g, '\n            ')}`);
      }
    }
  }
  return report;
}

/** The capture's pre-existing devices (setup.devices), made the way `ip link add` makes them. */
function setUpDevices(kernel: Kernel, capture: Capture): void {
  const ns = kernel.initNet;
  for (const d of capture.setup?.devices ?? []) {
    const dev = ns.addDevice({ name: d.name, kind: d.kind });
    if (d.kind === 'veth' && d.peer) {
      const peer = ns.addDevice({ name: d.peer, kind: 'veth' });
      dev.peer = peer;
      peer.peer = dev;
      if (d.up) peer.flags |= IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
    }
    if (d.up) dev.flags |= IFF.UP | IFF.RUNNING | IFF.LOWER_UP;
  }
}

/** Everything a socket has queued now that belongs to this exchange, decoded. */
function drain(sock: KernelSocket | undefined, protocol: number, families: FamilyTable, request: CaptureMessage): Message[] {
  if (sock === undefined) return [];
  const out: Message[] = [];
  for (let d = sock.tryRecv(); d !== undefined; d = sock.tryRecv()) {
    const r = decode(d, { protocol, families, lenient: true });
    for (const m of r.messages) if (m.header.seq === request.seq && m.header.pid === request.pid) out.push(m);
    if (!r.ok) throw new Error(`the model sent bytes it cannot decode: ${r.error.message}`);
  }
  return out;
}

function decodeOne(bytes: Uint8Array, protocol: number, families: FamilyTable): Message {
  const r = decode(bytes, { protocol, families, lenient: true });
  if (!r.ok || r.messages.length !== 1) throw new Error(`capture message does not decode: ${r.ok ? 'several messages' : r.error.message}`);
  return r.messages[0]!;
}

/** Identical consecutive messages once (one copy per listening socket). */
function collapse(msgs: Message[]): Message[] {
  const out: Message[] = [];
  let last = '';
  for (const m of msgs) {
    const key = Buffer.from(encode(m)).toString('hex');
    if (key !== last) out.push(m);
    last = key;
  }
  return out;
}

function describe(m: Message): string {
  if (m.kind === 'genl') {
    const name = Object.entries(m.family.cmds).find(([, v]) => v === m.cmd)?.[0] ?? `cmd ${m.cmd}`;
    return name;
  }
  if (m.kind === 'error') return m.error === 0 ? 'ack' : `error ${m.error}`;
  if (m.kind === 'done') return m.error ? `DONE ${m.error}` : 'DONE';
  if (m.kind === 'rtnl') return `RTM ${m.header.type}`;
  return `type ${m.header.type}`;
}

/** "A, A, A, B" -> "A x3, B": a dump's replies on one line. */
function summarise(names: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < names.length; ) {
    let j = i;
    while (j < names.length && names[j] === names[i]) j++;
    out.push(j - i > 1 ? `${names[i]} x${j - i}` : names[i]!);
    i = j;
  }
  return out.join(', ') || 'nothing';
}

/** Translate the ifindexes a request names from the captured kernel's numbering into the model's. */
function rewriteRequest(bytes: Uint8Array, protocol: number, ifmap: Map<number, number>): Uint8Array {
  const out = Uint8Array.from(bytes);
  const dv = new DataView(out.buffer);
  if (out.length < 16) return out;
  const type = dv.getUint16(4, true);
  if (protocol === NetlinkProtocol.NETLINK_GENERIC && type >= 32 && out.length >= 24) {
    const i = dv.getInt32(20, true);
    const m = ifmap.get(i);
    if (m !== undefined) dv.setInt32(20, m, true);
  } else if (protocol === NetlinkProtocol.NETLINK_ROUTE && ((type >= 16 && type <= 19) || (type >= 36 && type <= 38)) && out.length >= 24) {
    // ifinfomsg.ifi_index and tcmsg.tcm_ifindex both sit 4 bytes into the payload.
    const i = dv.getInt32(20, true);
    const m = ifmap.get(i);
    if (m !== undefined) dv.setInt32(20, m, true);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Normalisation and comparison

type Walk = (path: string, value: unknown, set: (v: unknown) => void) => void;

/** Visit the volatile fields of a message: ifindexes ('ifindex') and counters/addresses ('volatile'). */
function visit(m: Message, onIfindex: Walk, onVolatile: Walk, families: FamilyTable): Message {
  if (m.kind === 'genl') {
    if (m.dpIfindex !== undefined) onIfindex('dp_ifindex', m.dpIfindex, (v) => (m.dpIfindex = v as number));
    const a = m.attrs as Record<string, unknown>;
    if (m.family.name === 'ovs_vport') {
      if (a.ifindex !== undefined) onIfindex('ifindex', a.ifindex, (v) => (a.ifindex = v));
      if (a.stats !== undefined) onVolatile('stats', a.stats, (v) => (a.stats = v));
    }
    if (m.family.name === 'ovs_datapath') {
      if (a.stats !== undefined) onVolatile('stats', a.stats, (v) => (a.stats = v));
      if (a.megaflowStats !== undefined) onVolatile('megaflowStats', a.megaflowStats, (v) => (a.megaflowStats = v));
    }
  } else if (m.kind === 'rtnl' && m.family === 'link') {
    const info = m.ifinfomsg as Record<string, unknown>;
    onIfindex('ifi_index', info.index, (v) => (info.index = v));
    const a = m.attrs as Record<string, unknown>;
    for (const k of ['stats', 'stats64', 'address', 'broadcast', 'permAddress']) {
      if (a[k] !== undefined) onVolatile(k, a[k], (v) => (a[k] = v));
    }
  } else if (m.kind === 'rtnl' && m.family === 'qdisc') {
    const tc = m.tcmsg as Record<string, unknown>;
    onIfindex('tcm_ifindex', tc.ifindex, (v) => (tc.ifindex = v));
  } else if (m.kind === 'error' && m.request.length >= 16) {
    const r = decode(m.request, { protocol: m.protocol, families, lenient: true });
    if (r.ok && r.messages.length === 1) {
      const inner = r.messages[0]!;
      visit(inner, onIfindex, onVolatile, families);
      const bytes = encode(inner);
      if (bytes.length === m.request.length) m.request = Uint8Array.from(bytes);
    } else if (m.protocol === NetlinkProtocol.NETLINK_GENERIC && m.request.length >= 24) {
      // A capped echo: just the header (no ovs_header to map).
    }
  }
  return m;
}

function zeroed(v: unknown): unknown {
  if (typeof v === 'bigint') return 0n;
  if (typeof v === 'number') return 0;
  if (v instanceof Uint8Array) return new Uint8Array(v.length);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, zeroed(x)]));
  return v;
}

function ifindexes(m: Message, families: FamilyTable): number[] {
  const out: number[] = [];
  visit(
    structuredCloneMessage(m, families),
    (_p, v) => out.push(v as number),
    () => {},
    families,
  );
  return out;
}

function structuredCloneMessage(m: Message, families: FamilyTable): Message {
  const r = decode(encode(m), { protocol: m.protocol, families, lenient: true });
  return r.messages[0]!;
}

/** undefined when equal after normalisation, else what differs. */
function compare(captured: Message[], model: Message[], ifmap: Map<number, number>, families: FamilyTable): string | undefined {
  if (captured.length !== model.length) {
    return `expected ${captured.length} message(s) (${captured.map(describe).join(', ') || 'nothing'}), got ${model.length}`;
  }
  for (let i = 0; i < captured.length; i++) {
    const c = structuredCloneMessage(captured[i]!, families);
    const m = structuredCloneMessage(model[i]!, families);
    // Learn the ifindex map from this pair, then compare in the model's numbering.
    const ci = ifindexes(c, families);
    const mi = ifindexes(m, families);
    if (ci.length === mi.length) {
      ci.forEach((x, k) => {
        if (!ifmap.has(x) && x !== 0 && ![...ifmap.values()].includes(mi[k]!)) ifmap.set(x, mi[k]!);
      });
    }
    const zero: Walk = (_p, v, set) => set(zeroed(v));
    visit(c, (_p, v, set) => set(ifmap.get(v as number) ?? v), zero, families);
    visit(m, () => {}, zero, families);
    const cb = Buffer.from(encode(c)).toString('hex');
    const mb = Buffer.from(encode(m)).toString('hex');
    if (cb !== mb) {
      const mapped = ci.map((x) => `${x}->${ifmap.get(x) ?? '?'}`).join(' ');
      return `message ${i + 1} differs (ifindexes ${mapped || 'none'}): captured ${describe(c)} ${cb} vs model ${describe(m)} ${mb}`;
    }
  }
  return undefined;
}
