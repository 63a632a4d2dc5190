/**
 * ovs-dpctl against the kernel model does what the real ovs-dpctl did against
 * the real kernel, step by step (the `steps` of the golden dpctl captures):
 * the same text, the same exit status, and the same requests — every generic
 * netlink request and every link-changing rtnetlink request the capture
 * kept, in order, with the same commands, flags and attributes (sequence
 * numbers, port ids and ifindex values may differ).
 *
 * The start of each real run depends on the captured machine's routing table
 * and addresses (OVS looks up each route's device: vport GETs by name). So
 * before each step the model is given the routes and addresses the real
 * kernel reported to that step's route dump and getifaddrs() (read from the
 * pcap), with the model's own automatic addresses off.
 *
 * Normalised in the text: log timestamps, and traffic counters (the model has
 * no packet path; the captured machine had ND/ARP traffic). Left out of the
 * requests: our netlink stand-ins for OVS's ioctls (see keptRtnl, isEthtool).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { IFF, type Message, NLM_F, type NetlinkSocket, NetlinkProtocol, RTM, decode, newFamilyTable, readCapture } from '@ovs/genl-codec';
import { ETHTOOL_FAMILY_ID, Kernel } from '@ovs/kernel-datapath';
import { describe, expect, it } from 'vitest';
import { runDpctl } from './dpctl.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

interface Step {
  cmd: string;
  exit: number;
  output: string;
}

interface GoldenMessage {
  dir: string;
  protocol: string;
  hex: string;
  packet: number;
  step: number;
}

interface Capture {
  steps: Step[];
  setup: { devices: Array<{ name: string; kind: string; peer?: string; up?: boolean }> };
  families: Record<string, { id: number; mcast_groups: Record<string, number> }>;
  capture: { pcap: string };
  messages: GoldenMessage[];
}

function normalise(text: string): string {
  return text
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|')
    .replace(/(lookups: hit:)\d+ missed:\d+ lost:\d+/g, '$1N missed:N lost:N')
    .replace(/(packets|bytes|errors|dropped):\d+/g, '$1:N');
}

/**
 * A request as compared: what it is (decoded, for readable diffs) and its
 * bytes with the values that may differ masked: nlmsg_seq, nlmsg_pid, and
 * the OVS families' dp_ifindex (0 kept apart from "some datapath").
 */
function describeRequest(bytes: Uint8Array, protocol: number, families: ReturnType<typeof newFamilyTable>): string {
  const hex = Buffer.from(bytes).toString('hex');
  const r = decode(bytes, { protocol, families, lenient: true });
  const m = r.ok ? r.messages[0] : undefined;
  let what = `proto ${protocol} type ${bytes[4]! | (bytes[5]! << 8)}`;
  let masked = hex.slice(0, 16) + '*'.repeat(16) + hex.slice(32);
  if (m?.kind === 'genl') {
    what = `${m.family.name} cmd ${m.cmd} ${JSON.stringify(m.attrs, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
    if (m.dpIfindex) masked = masked.slice(0, 40) + 'XXXXXXXX' + masked.slice(48);
  } else if (m?.kind === 'rtnl') what = `rtnl ${m.header.type} ${m.family}`;
  return `${what} | ${masked}`;
}

/** The rtnetlink requests a capture keeps: the ones that change links (not our stand-in for the SIOCSIFFLAGS ioctl). */
function keptRtnl(m: Message): boolean {
  if (m.kind !== 'rtnl' || m.family !== 'link') return false;
  if (m.header.type === RTM.NEWLINK || m.header.type === RTM.DELLINK) return true;
  // OVS brings a device up with an ioctl, which no netlink capture shows; this implementation has only netlink.
  return m.header.type === RTM.SETLINK && !(Object.keys(m.attrs).length === 1 && m.attrs.ifname !== undefined && m.ifinfomsg.change === IFF.UP);
}

/**
 * Requests of the ethtool family, and its lookup: OVS turns LRO off with
 * the SIOCETHTOOL ioctl, which no netlink capture shows; this implementation
 * has only netlink, so it uses Linux's ethtool netlink API instead.
 */
function isEthtool(bytes: Uint8Array): boolean {
  const type = bytes[4]! | (bytes[5]! << 8);
  if (type === ETHTOOL_FAMILY_ID) return true;
  return type === 0x10 && Buffer.from(bytes).includes(Buffer.from('ethtool\0'));
}

/** A socket factory over the model that records what is sent, in order. */
function recording(kernel: Kernel, sent: Array<{ protocol: number; bytes: Uint8Array }>) {
  return async (protocol: number): Promise<NetlinkSocket> => {
    const sock = kernel.socket({ protocol });
    return {
      protocol: sock.protocol,
      get portId() {
        return sock.portId;
      },
      send: async (d) => {
        sent.push({ protocol, bytes: d.slice() });
        return sock.send(d);
      },
      recv: () => sock.recv(),
      tryRecv: () => sock.tryRecv?.(),
      joinGroup: (g) => sock.joinGroup(g),
      leaveGroup: (g) => sock.leaveGroup(g),
      close: () => sock.close(),
    };
  };
}

/** The messages of the capture's pcap frames, with their frame numbers. */
function pcapMessages(capture: Capture): Array<{ frame: number; msg: Message }> {
  const out: Array<{ frame: number; msg: Message }> = [];
  for (const p of readCapture(gunzipSync(readFileSync(GOLDEN + capture.capture.pcap.replace(/^golden\//, ''))))) {
    if (p.protocol !== NetlinkProtocol.NETLINK_ROUTE) continue;
    const r = decode(p.data, { protocol: p.protocol, lenient: true });
    if (r.ok) for (const msg of r.messages) out.push({ frame: p.index, msg });
  }
  return out;
}

/**
 * The replies of the first dump of `type` requested in frames (from, to]:
 * what the real kernel answered that step's route dump or getifaddrs().
 */
function dumpReplies(msgs: Array<{ frame: number; msg: Message }>, from: number, to: number, request: number, reply: number): Message[] {
  const req = msgs.find((m) => m.frame > from && m.frame <= to && m.msg.header.type === request && (m.msg.header.flags & NLM_F.DUMP) === NLM_F.DUMP);
  if (!req) return [];
  return msgs
    .filter(
      (m) => m.frame > req.frame && m.frame <= to && m.msg.header.type === reply && m.msg.header.seq === req.msg.header.seq && m.msg.header.flags & NLM_F.MULTI,
    )
    .map((m) => m.msg);
}

/** Make the model's addresses and routes those the real kernel reported in that step. */
function loadKernelState(kernel: Kernel, msgs: Array<{ frame: number; msg: Message }>, from: number, to: number): void {
  const links = dumpReplies(msgs, from, to, RTM.GETLINK, RTM.NEWLINK);
  const nameOf = new Map<number, string>();
  for (const l of links) if (l.kind === 'rtnl' && l.family === 'link' && l.attrs.ifname) nameOf.set(l.ifinfomsg.index, l.attrs.ifname);
  const ifindex = (captured: number) => {
    const name = nameOf.get(captured);
    return name === undefined ? undefined : kernel.initNet.byIfname(name)?.ifindex;
  };
  const net = kernel.initNet;
  net.addresses.flush();
  net.fib.flush();
  for (const a of dumpReplies(msgs, from, to, RTM.GETADDR, RTM.NEWADDR)) {
    if (a.kind !== 'rtnl' || a.family !== 'addr') continue;
    const index = ifindex(a.ifaddrmsg.index);
    if (index !== undefined) net.addresses.add({ ifaddrmsg: { ...a.ifaddrmsg, index }, attrs: a.attrs });
  }
  for (const r of dumpReplies(msgs, from, to, RTM.GETROUTE, RTM.NEWROUTE)) {
    if (r.kind !== 'rtnl' || r.family !== 'route') continue;
    const oif = r.attrs.oif === undefined ? undefined : ifindex(r.attrs.oif);
    if (r.attrs.oif !== undefined && oif === undefined) continue;
    net.fib.add({ rtmsg: r.rtmsg, attrs: { ...r.attrs, ...(oif !== undefined ? { oif } : {}) } });
  }
}

describe.each(['dpctl-datapath.json', 'dpctl-ports.json', 'dpctl-errors.json'])('ovs-dpctl steps of %s', (file) => {
  it('print the same text, exit with the same status and send the same requests as the real ones', async () => {
    const capture = JSON.parse(readFileSync(GOLDEN + file, 'utf8')) as Capture;
    const families = newFamilyTable();
    for (const [name, f] of Object.entries(capture.families)) {
      families.learn({ familyName: name, familyId: f.id, mcastGroups: Object.entries(f.mcast_groups).map(([n, id]) => ({ name: n, id })) });
    }
    const frames = pcapMessages(capture);
    const kernel = new Kernel({ addrconf: false });
    for (const d of capture.setup.devices) {
      const dev = kernel.initNet.addDevice({ name: d.name, kind: d.kind });
      if (d.peer) {
        const peer = kernel.initNet.addDevice({ name: d.peer, kind: 'veth' });
        dev.peer = peer;
        peer.peer = dev;
        if (d.up) peer.flags |= IFF.UP;
      }
      if (d.up) dev.flags |= IFF.UP;
    }
    let checked = 0;
    let requests = 0;
    let lastFrame = -1;
    for (const [k, step] of capture.steps.entries()) {
      const golden = capture.messages.filter((m) => m.step === k);
      const stepLast = golden.length ? Math.max(...golden.map((m) => m.packet)) : lastFrame;
      if (!step.cmd.startsWith('ovs-dpctl ')) {
        lastFrame = stepLast;
        continue; // `ip -d link show` and the like are not ours
      }
      loadKernelState(kernel, frames, lastFrame, stepLast);
      lastFrame = stepLast;
      const lines: string[] = [];
      const sent: Array<{ protocol: number; bytes: Uint8Array }> = [];
      const code = await runDpctl(step.cmd.split(/\s+/).slice(1), {
        out: (l) => lines.push(l),
        err: (l) => lines.push(l),
        socket: recording(kernel, sent),
      });
      expect(normalise(lines.join('\n')), step.cmd).toBe(normalise(step.output));
      expect(code, step.cmd).toBe(step.exit);
      const ours = sent
        .filter(({ protocol, bytes }) => {
          if (protocol === NetlinkProtocol.NETLINK_GENERIC) return !isEthtool(bytes);
          const r = decode(bytes, { protocol, lenient: true });
          return r.ok && r.messages.length === 1 && keptRtnl(r.messages[0]!);
        })
        .map(({ protocol, bytes }) => describeRequest(bytes, protocol, families));
      const theirs = golden
        .filter((m) => m.dir === 'to-kernel')
        .map((m) => describeRequest(Buffer.from(m.hex, 'hex'), m.protocol === 'NETLINK_ROUTE' ? 0 : 16, families));
      expect(ours, `requests of step ${k}: ${step.cmd}`).toEqual(theirs);
      requests += theirs.length;
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
    if (process.env.OVS_TEST_VERBOSE) console.log(`${file}: ${checked} steps, ${requests} requests`);
  });
});
