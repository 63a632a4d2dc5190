/**
 * `ip addr add` and `ip addr show` (iproute2's ip/ipaddress.c) over
 * rtnetlink: the requests iproute2 sends (RTM_NEWADDR, RTM_GETADDR dumps)
 * and print_addrinfo()'s way of printing an address under its link. Speaks
 * only netlink bytes over any NetlinkSocket, as iplink.ts does.
 */
import {
  AF_INET,
  AF_INET6,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  type NetlinkSocket,
  RTM,
  RT_SCOPE,
  type RtnlAddrMessage,
  decode,
  encode,
  formatInetAddr,
  parseInetAddr,
} from '@ovs/genl-codec';

/** INFINITY_LIFE_TIME. */
const INFINITY_LIFE_TIME = 0xffffffff;

/** One address as RTM_NEWADDR described it. */
export interface IpAddr {
  family: number;
  prefixlen: number;
  scope: number;
  /** IFA_FLAGS, else ifa_flags. */
  flags: number;
  ifindex: number;
  /** IFA_LOCAL (IFA_ADDRESS when there is none, as for IPv6). */
  local: Uint8Array;
  /** IFA_ADDRESS (the peer on a point-to-point link when it differs from local). */
  address: Uint8Array;
  broadcast?: Uint8Array;
  label?: string;
  validLft?: number;
  preferredLft?: number;
}

let seqCounter = 0x40000000;

/** Send one request and read until its answer (ack, or a dump's NLMSG_DONE); the address messages of it. */
async function transact(sock: NetlinkSocket, msg: RtnlAddrMessage): Promise<RtnlAddrMessage[]> {
  const seq = msg.header.seq;
  const dump = (msg.header.flags & NLM_F.DUMP) === NLM_F.DUMP;
  await sock.send(encode(msg));
  const out: RtnlAddrMessage[] = [];
  for (;;) {
    const r = decode(await sock.recv(), { protocol: NetlinkProtocol.NETLINK_ROUTE });
    if (!r.ok) throw r.error;
    for (const m of r.messages) {
      if (m.header.seq !== seq || m.header.pid !== sock.portId) continue;
      if (m.kind === 'error') {
        if (m.error !== 0) throw new NetlinkErrnoError(-(m.error ?? 0), m.ext?.msg, m.ext?.offs);
        return out;
      }
      if (m.kind === 'done') {
        if (m.error !== undefined && m.error < 0) throw new NetlinkErrnoError(-m.error, m.ext?.msg);
        if (dump) return out;
        continue;
      }
      if (m.kind === 'rtnl' && m.family === 'addr' && m.header.type === RTM.NEWADDR && (!dump || m.header.flags & NLM_F.MULTI)) out.push(m);
    }
  }
}

/** get_prefix(): ADDR[/LEN] of either family; the length defaults to the address's bits. */
export function parsePrefix(arg: string): { family: number; addr: Uint8Array; prefixlen: number } {
  const slash = arg.indexOf('/');
  const text = slash < 0 ? arg : arg.slice(0, slash);
  const addr = parseInetAddr(text, arg);
  const bits = addr.length * 8;
  let prefixlen = bits;
  if (slash >= 0) {
    const len = arg.slice(slash + 1);
    if (!/^\d+$/.test(len) || Number(len) > bits) throw new Error(`invalid prefix length in "${arg}"`);
    prefixlen = Number(len);
  }
  return { family: addr.length === 4 ? AF_INET : AF_INET6, addr, prefixlen };
}

/**
 * `ip addr add ADDR/LEN dev IFINDEX`: RTM_NEWADDR with NLM_F_CREATE |
 * NLM_F_EXCL, IFA_LOCAL and IFA_ADDRESS both the address (no peer), the
 * scope default_scope() gives (host for 127/8, else global).
 */
export async function ipAddrAdd(sock: NetlinkSocket, ifindex: number, prefix: { family: number; addr: Uint8Array; prefixlen: number }): Promise<void> {
  const scope = prefix.family === AF_INET && prefix.addr[0] === 127 ? RT_SCOPE.HOST : RT_SCOPE.UNIVERSE;
  await transact(sock, {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type: RTM.NEWADDR, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: ++seqCounter, pid: 0 },
    family: 'addr',
    ifaddrmsg: { family: prefix.family, prefixlen: prefix.prefixlen, flags: 0, scope, index: ifindex },
    attrs: { local: prefix.addr, address: prefix.addr },
  });
}

/** `ip addr show`: RTM_GETADDR dump of every family, the addresses in dump order. */
export async function ipAddrDump(sock: NetlinkSocket): Promise<IpAddr[]> {
  const msgs = await transact(sock, {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type: RTM.GETADDR, flags: NLM_F.REQUEST | NLM_F.DUMP, seq: ++seqCounter, pid: 0 },
    family: 'addr',
    ifaddrmsg: { family: 0, prefixlen: 0, flags: 0, scope: 0, index: 0 },
    attrs: {},
  });
  return msgs.map(toIpAddr);
}

function toIpAddr(m: RtnlAddrMessage): IpAddr {
  const a = m.attrs;
  const local = a.local ?? a.address ?? new Uint8Array(0);
  const addr: IpAddr = {
    family: m.ifaddrmsg.family,
    prefixlen: m.ifaddrmsg.prefixlen,
    scope: m.ifaddrmsg.scope,
    flags: a.flags ?? m.ifaddrmsg.flags,
    ifindex: m.ifaddrmsg.index,
    local,
    address: a.address ?? local,
  };
  if (a.broadcast !== undefined) addr.broadcast = a.broadcast;
  if (a.label !== undefined) addr.label = a.label;
  if (a.cacheinfo !== undefined) {
    addr.validLft = a.cacheinfo.valid;
    addr.preferredLft = a.cacheinfo.prefered;
  }
  return addr;
}

/** ifa_flag_names[], in iproute2's order. */
const IFA_FLAG_NAMES: ReadonlyArray<[string, number]> = [
  ['secondary', 0x01],
  ['nodad', 0x02],
  ['optimistic', 0x04],
  ['dadfailed', 0x08],
  ['home', 0x10],
  ['deprecated', 0x20],
  ['tentative', 0x40],
  ['permanent', 0x80],
  ['mngtmpaddr', 0x100],
  ['noprefixroute', 0x200],
  ['autojoin', 0x400],
  ['stable-privacy', 0x800],
];

/** rtnl_rtscope_n2a(). */
function scopeName(scope: number): string {
  switch (scope) {
    case RT_SCOPE.UNIVERSE:
      return 'global';
    case RT_SCOPE.SITE:
      return 'site';
    case RT_SCOPE.LINK:
      return 'link';
    case RT_SCOPE.HOST:
      return 'host';
    case RT_SCOPE.NOWHERE:
      return 'nowhere';
    default:
      return String(scope);
  }
}

/** print_addrinfo(): the two lines of one address, as `ip addr show` prints them under the link. */
export function formatIpAddr(a: IpAddr): string[] {
  const same = a.address.length === a.local.length && a.address.every((b, i) => b === a.local[i]);
  let line = `    ${a.family === AF_INET6 ? 'inet6' : 'inet'} ${formatInetAddr(a.local)}`;
  if (!same) line += ` peer ${formatInetAddr(a.address)}`;
  line += `/${a.prefixlen} `;
  if (a.broadcast !== undefined) line += `brd ${formatInetAddr(a.broadcast)} `;
  line += `scope ${scopeName(a.scope)} `;
  let flags = a.flags;
  for (const [name, mask] of IFA_FLAG_NAMES) {
    if (mask === 0x80) {
      if (!(flags & mask)) line += 'dynamic ';
    } else if (flags & mask) {
      line += mask === 0x01 && a.family === AF_INET6 ? 'temporary ' : `${name} `;
    }
    flags &= ~mask;
  }
  if (flags) line += `flags ${flags.toString(16).padStart(2, '0')} `;
  if (a.label !== undefined) line += a.label;
  const lines = [line];
  if (a.validLft !== undefined && a.preferredLft !== undefined) {
    const lft = (v: number): string => (v === INFINITY_LIFE_TIME ? 'forever' : `${v}sec`);
    lines.push(`       valid_lft ${lft(a.validLft)} preferred_lft ${lft(a.preferredLft)}`);
  }
  return lines;
}
