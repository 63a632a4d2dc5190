/**
 * `ip link` over rtnetlink: add, del, set, show and iproute2's way of
 * printing links. Speaks only netlink bytes over any NetlinkSocket of
 * @ovs/genl-codec (a KernelSocket of this model, the daemon's client, a real
 * AF_NETLINK socket), sending the requests iproute2 sends and waiting for the
 * answer carrying the request's sequence number and the socket's port id;
 * anything else read meanwhile (notifications, answers to others) is skipped.
 * Kernel errors become NetlinkErrnoError with the extended ack's message.
 */
import {
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  ARPHRD_NONE,
  IFF,
  type IflaAttrs,
  type InfoData,
  type Message,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  type NetlinkSocket,
  RTM,
  type RtnlLinkMessage,
  decode,
  encode,
} from '@ovs/genl-codec';

/** The kinds ipLinkAdd() makes (any other string is passed to the kernel as it is). */
export type IpLinkKind = 'dummy' | 'veth';

/** One link as RTM_NEWLINK described it. */
export interface IpLink {
  ifindex: number;
  name: string;
  /** ifi_flags (IFF_*), as dev_get_flags() reported them. */
  flags: number;
  /** ifi_type (ARPHRD_*). */
  type: number;
  mtu?: number;
  qdisc?: string;
  /** IF_OPER_* */
  operstate?: number;
  /** IF_LINK_MODE_* */
  linkmode?: number;
  group?: number;
  txqlen?: number;
  promiscuity?: number;
  minMtu?: number;
  maxMtu?: number;
  carrier?: boolean;
  /** IFLA_MASTER: the ifindex of the upper device. */
  master?: number;
  /** IFLA_LINK: the ifindex of the lower device or veth peer (0 when it has none). */
  link?: number;
  /** IFLA_LINK_NETNSID: the namespace of `link`, as this namespace numbers it. */
  linkNetnsid?: number;
  address?: Uint8Array;
  broadcast?: Uint8Array;
  ifalias?: string;
  /** IFLA_INFO_KIND and IFLA_INFO_DATA. */
  kind?: string;
  infoData?: InfoData;
  /** Every attribute as decoded. */
  attrs: IflaAttrs;
}

/**
 * A namespace as a request names it: an nsfs descriptor (IFLA_NET_NS_FD,
 * what iproute2 sends for a name under /run/netns) or a process in it
 * (IFLA_NET_NS_PID, for a number).
 */
export type NetnsRef = { fd: number } | { pid: number };

function netnsAttrs(ref: NetnsRef | undefined): IflaAttrs {
  if (ref === undefined) return {};
  return 'fd' in ref ? { netNsFd: ref.fd } : { netNsPid: ref.pid };
}

/** RTEXT_FILTER_VF: what iproute2 puts in IFLA_EXT_MASK. */
const RTEXT_FILTER_VF = 1;

const nextSeq = new WeakMap<NetlinkSocket, number>();

function seqFor(sock: NetlinkSocket): number {
  const seq = nextSeq.get(sock) ?? 1;
  nextSeq.set(sock, seq >= 0xffffffff ? 1 : seq + 1);
  return seq;
}

function linkRequest(
  type: number,
  flags: number,
  seq: number,
  attrs: IflaAttrs,
  ifi: { flags?: number; change?: number; index?: number } = {},
): RtnlLinkMessage {
  return {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type, flags: NLM_F.REQUEST | flags, seq, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: ifi.index ?? 0, flags: ifi.flags ?? 0, change: ifi.change ?? 0 },
    attrs,
  };
}

function errnoError(m: Extract<Message, { kind: 'error' | 'done' }>): NetlinkErrnoError {
  const error = m.error ?? 0;
  return new NetlinkErrnoError(-error, m.ext?.msg, m.ext?.offs);
}

/**
 * Send one request and read until its answer: the ack (NLMSG_ERROR), the
 * reply, or, for a dump, every part up to NLMSG_DONE. Returns the link
 * messages of the answer.
 */
async function transact(sock: NetlinkSocket, msg: RtnlLinkMessage): Promise<RtnlLinkMessage[]> {
  const seq = msg.header.seq;
  const dump = (msg.header.flags & NLM_F.DUMP) === NLM_F.DUMP;
  const wantsAck = (msg.header.flags & NLM_F.ACK) !== 0;
  await sock.send(encode(msg));
  const links: RtnlLinkMessage[] = [];
  for (;;) {
    const datagram = await sock.recv();
    const r = decode(datagram, { protocol: NetlinkProtocol.NETLINK_ROUTE });
    if (!r.ok) throw r.error;
    for (const m of r.messages) {
      if (m.header.seq !== seq || m.header.pid !== sock.portId) continue;
      if (m.kind === 'error') {
        if (m.error !== 0) throw errnoError(m);
        if (wantsAck) return links;
        continue;
      }
      if (m.kind === 'done') {
        if (m.error !== undefined && m.error < 0) throw errnoError(m);
        if (dump) return links;
        continue;
      }
      if (m.kind === 'rtnl' && m.family === 'link' && m.header.type === RTM.NEWLINK) {
        // A notification of this request's own change has its seq too, but not NLM_F_MULTI, and
        // only requests that change links (never a GET) cause notifications.
        if (dump && !(m.header.flags & NLM_F.MULTI)) continue;
        links.push(m);
        if (!dump && !wantsAck) return links;
      }
    }
  }
}

/**
 * `ip link add NAME [netns NS] type KIND [peer name PEER [netns NS]]`:
 * RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL and IFLA_LINKINFO
 * (VETH_INFO_PEER for a veth peer's name and namespace; without a peer
 * name the kernel names the peer vethN). `netns` makes the device in that
 * namespace, `peerNetns` the peer.
 */
export async function ipLinkAdd(
  sock: NetlinkSocket,
  name: string,
  kind: IpLinkKind,
  opts: { peer?: string; netns?: NetnsRef; peerNetns?: NetnsRef } = {},
): Promise<void> {
  const linkinfo: NonNullable<IflaAttrs['linkinfo']> = { kind };
  if (kind === 'veth' && (opts.peer !== undefined || opts.peerNetns !== undefined)) {
    linkinfo.data = {
      set: 'veth',
      attrs: {
        peer: {
          ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 },
          attrs: { ...(opts.peer !== undefined ? { ifname: opts.peer } : {}), ...netnsAttrs(opts.peerNetns) },
        },
      },
    };
  }
  const attrs: IflaAttrs = { ifname: name, ...netnsAttrs(opts.netns), linkinfo };
  await transact(sock, linkRequest(RTM.NEWLINK, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seqFor(sock), attrs));
}

/** `ip link del NAME`: RTM_DELLINK by name (a veth takes its peer). */
export async function ipLinkDel(sock: NetlinkSocket, name: string): Promise<void> {
  await transact(sock, linkRequest(RTM.DELLINK, NLM_F.ACK, seqFor(sock), { ifname: name }));
}

/**
 * `ip link set NAME [up|down] [mtu N] [address MAC] [name NEWNAME] [netns NS]`:
 * RTM_NEWLINK without NLM_F_CREATE, IFF_UP through ifi_change, IFLA_ADDRESS,
 * IFLA_NET_NS_FD / IFLA_NET_NS_PID. A rename or a move goes by ifindex
 * (looked up first, as iproute2's ll_name_to_index), the new name in
 * IFLA_IFNAME: ENODEV if NAME does not exist.
 */
export async function ipLinkSet(
  sock: NetlinkSocket,
  name: string,
  opts: { up?: boolean; mtu?: number; address?: Uint8Array; newName?: string; netns?: NetnsRef },
): Promise<void> {
  let index = 0;
  if (opts.newName !== undefined || opts.netns !== undefined) {
    const [link] = await transact(sock, linkRequest(RTM.GETLINK, 0, seqFor(sock), { ifname: name, extMask: RTEXT_FILTER_VF }));
    index = link!.ifinfomsg.index;
  }
  // By ifindex, the name goes only with a rename (iproute2 drops it when it names the device itself).
  const attrs: IflaAttrs = index === 0 || opts.newName !== undefined ? { ifname: opts.newName ?? name } : {};
  Object.assign(attrs, netnsAttrs(opts.netns));
  if (opts.mtu !== undefined) attrs.mtu = opts.mtu;
  if (opts.address !== undefined) attrs.address = opts.address;
  const ifi = { index, ...(opts.up !== undefined ? { flags: opts.up ? IFF.UP : 0, change: IFF.UP } : {}) };
  await transact(sock, linkRequest(RTM.NEWLINK, NLM_F.ACK, seqFor(sock), attrs, ifi));
}

/** `ip link show [NAME]`: RTM_GETLINK for one link by name, or a dump of them all. */
export async function ipLinkShow(sock: NetlinkSocket, name?: string): Promise<IpLink[]> {
  const msgs =
    name !== undefined
      ? await transact(sock, linkRequest(RTM.GETLINK, 0, seqFor(sock), { ifname: name, extMask: RTEXT_FILTER_VF }))
      : await transact(sock, linkRequest(RTM.GETLINK, NLM_F.DUMP, seqFor(sock), { extMask: RTEXT_FILTER_VF }));
  return msgs.map(toIpLink);
}

/** The typed view of one RTM_NEWLINK. */
export function toIpLink(m: RtnlLinkMessage): IpLink {
  const a = m.attrs;
  const link: IpLink = { ifindex: m.ifinfomsg.index, name: a.ifname ?? '', flags: m.ifinfomsg.flags, type: m.ifinfomsg.type, attrs: a };
  if (a.mtu !== undefined) link.mtu = a.mtu;
  if (a.qdisc !== undefined) link.qdisc = a.qdisc;
  if (a.operstate !== undefined) link.operstate = a.operstate;
  if (a.linkmode !== undefined) link.linkmode = a.linkmode;
  if (a.group !== undefined) link.group = a.group;
  if (a.txqlen !== undefined) link.txqlen = a.txqlen;
  if (a.promiscuity !== undefined) link.promiscuity = a.promiscuity;
  if (a.minMtu !== undefined) link.minMtu = a.minMtu;
  if (a.maxMtu !== undefined) link.maxMtu = a.maxMtu;
  if (a.carrier !== undefined) link.carrier = a.carrier !== 0;
  if (a.master !== undefined) link.master = a.master;
  if (a.link !== undefined) link.link = a.link;
  if (a.linkNetnsid !== undefined) link.linkNetnsid = a.linkNetnsid;
  if (a.address !== undefined) link.address = a.address;
  if (a.broadcast !== undefined) link.broadcast = a.broadcast;
  if (a.ifalias !== undefined) link.ifalias = a.ifalias;
  if (a.linkinfo?.kind !== undefined) link.kind = a.linkinfo.kind;
  if (a.linkinfo?.data !== undefined) link.infoData = a.linkinfo.data;
  return link;
}

// ---------------------------------------------------------------------------
// Printing, as iproute2's print_linkinfo() does for `ip link show`

const OPER_STATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
const LINK_MODES = ['DEFAULT', 'DORMANT', 'TESTING'];
/** print_link_flags(): the names in iproute2's order. */
const FLAG_NAMES: ReadonlyArray<[string, number]> = [
  ['LOOPBACK', IFF.LOOPBACK],
  ['BROADCAST', IFF.BROADCAST],
  ['POINTOPOINT', IFF.POINTOPOINT],
  ['MULTICAST', IFF.MULTICAST],
  ['NOARP', IFF.NOARP],
  ['ALLMULTI', IFF.ALLMULTI],
  ['PROMISC', IFF.PROMISC],
  ['MASTER', IFF.MASTER],
  ['SLAVE', IFF.SLAVE],
  ['DEBUG', IFF.DEBUG],
  ['DYNAMIC', IFF.DYNAMIC],
  ['AUTOMEDIA', IFF.AUTOMEDIA],
  ['PORTSEL', IFF.PORTSEL],
  ['NOTRAILERS', IFF.NOTRAILERS],
  ['UP', IFF.UP],
  ['LOWER_UP', IFF.LOWER_UP],
  ['DORMANT', IFF.DORMANT],
  ['ECHO', IFF.ECHO],
];

const ARPHRD_IPGRE = 778;
const ARPHRD_NETLINK = 824;

/** ll_type_n2a(). */
function linkType(type: number): string {
  switch (type) {
    case ARPHRD_ETHER:
      return 'ether';
    case ARPHRD_LOOPBACK:
      return 'loopback';
    case ARPHRD_IPGRE:
      return 'gre';
    case ARPHRD_NONE:
      return 'none';
    case ARPHRD_NETLINK:
      return 'netlink';
    case 0xffff:
      return 'void';
    default:
      return `[${type}]`;
  }
}

/** ll_addr_n2a(): dotted quad for IPv4 tunnels, else colon-separated hex. */
function linkAddr(addr: Uint8Array, type: number): string {
  if (addr.length === 4 && type === ARPHRD_IPGRE) return [...addr].join('.');
  return [...addr].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** print_link_flags(). */
function linkFlags(flags: number, mdown: boolean): string {
  const parts: string[] = [];
  if (flags & IFF.UP && !(flags & IFF.RUNNING)) parts.push('NO-CARRIER');
  let rest = flags & ~IFF.RUNNING;
  for (const [name, bit] of FLAG_NAMES) {
    if (rest & bit) {
      rest &= ~bit;
      parts.push(name);
    }
  }
  let s = parts.join(',');
  if (rest) s += `${s ? ',' : ''}${(rest >>> 0).toString(16)}`;
  if (mdown) s += ',M-DOWN';
  return `<${s}>`;
}

/**
 * Print links as `ip link show` does, one entry of two lines each (an alias
 * adds a third). Peer and master names come from `links` itself, or from
 * `opts.names` for links not among them; an unknown one prints as ifN, as
 * iproute2 prints an index it cannot name.
 */
export function formatIpLink(
  links: readonly IpLink[],
  opts: {
    names?: ReadonlyMap<number, string>;
    /** The names under /run/netns of the namespaces ids name (get_name_from_nsid()): link-netns NAME instead of link-netnsid N. */
    netnsNames?: ReadonlyMap<number, string>;
    /** `ip addr`: no "mode", and each link's addresses after it. */
    addresses?: ReadonlyMap<number, string[]>;
  } = {},
): string {
  const byIndex = new Map<number, IpLink>(links.map((l) => [l.ifindex, l]));
  const nameOf = (ifindex: number): string => byIndex.get(ifindex)?.name ?? opts.names?.get(ifindex) ?? `if${ifindex}`;
  let out = '';
  for (const l of links) {
    let line = `${l.ifindex}: ${l.name}`;
    let mdown = false;
    if (l.link !== undefined) {
      if (l.link === 0) {
        line += '@NONE';
      } else if (l.linkNetnsid !== undefined) {
        line += `@if${l.link}`;
      } else {
        line += `@${nameOf(l.link)}`;
        const lower = byIndex.get(l.link);
        mdown = lower !== undefined && !(lower.flags & IFF.UP);
      }
    }
    line += `: ${linkFlags(l.flags, mdown)} `;
    if (l.mtu !== undefined) line += `mtu ${l.mtu} `;
    if (l.qdisc !== undefined) line += `qdisc ${l.qdisc} `;
    if (l.master !== undefined) line += `master ${nameOf(l.master)} `;
    if (l.operstate !== undefined) line += `state ${OPER_STATES[l.operstate] ?? `0x${l.operstate.toString(16)}`} `;
    if (l.linkmode !== undefined && opts.addresses === undefined) line += `mode ${LINK_MODES[l.linkmode] ?? 'none'} `;
    if (l.group !== undefined) line += `group ${l.group === 0 ? 'default' : String(l.group)} `;
    if (l.txqlen !== undefined) line += `qlen ${l.txqlen}`;
    line += `\n    link/${linkType(l.type)} `;
    if (l.address !== undefined) line += linkAddr(l.address, l.type);
    if (l.broadcast !== undefined) line += `${l.flags & IFF.POINTOPOINT ? ' peer ' : ' brd '}${linkAddr(l.broadcast, l.type)}`;
    if (l.linkNetnsid !== undefined) {
      const ns = l.linkNetnsid >= 0 ? opts.netnsNames?.get(l.linkNetnsid) : undefined;
      line += ns !== undefined ? ` link-netns ${ns}` : ` link-netnsid ${l.linkNetnsid >= 0 ? l.linkNetnsid : 'unknown'}`;
    }
    if (l.ifalias !== undefined) line += `\n    alias ${l.ifalias}`;
    for (const a of opts.addresses?.get(l.ifindex) ?? []) line += `\n${a}`;
    out += `${line}\n`;
  }
  return out;
}
