/**
 * `ip netns` (iproute2's ip/ipnetns.c) against the ovs-kernel daemon, and the
 * daemon's NETNS control frame that stands in for the files under /run/netns.
 *
 * In Linux `ip netns add NAME` makes a namespace and bind-mounts its nsfs
 * file on /run/netns/NAME; tools open that file and give the kernel the
 * descriptor (IFLA_NET_NS_FD, NETNSA_FD) or setns() into it. The model's
 * namespaces and their names live in the daemon (Kernel.netnsAdd,
 * netnsDel, nsfsOpen), so the files are reached through it:
 *
 *   NETNS 12  op:u8  reserved:u8[3]  then by op:
 *               0 LIST   (nothing): RESULT's message is the JSON array of
 *                        mounted names, newest first (readdir of /run/netns)
 *               1 ADD    name:utf8 (unshare + mount; EEXIST, EINVAL)
 *               2 DEL    name:utf8 (umount + unlink; ENOENT)
 *               3 OPEN   name:utf8 ("init" is the init namespace): RESULT's
 *                        value is an nsfs descriptor (ENOENT), valid in
 *                        netlink requests on any connection while this one
 *                        stays open, closed with it (or by CLOSE)
 *               4 CLOSE  fd:u32
 *             Sent instead of HELLO, on a control connection (like FAULT);
 *             ADD and DEL need CAP_NET_ADMIN over the model (EPERM).
 *
 * A process "enters" a namespace (setns(), what `ip netns exec` does before
 * exec) by having OVS_KERNEL_NETNS=NAME in its environment: every netlink
 * socket it opens on the daemon is made in that namespace (the HELLO's
 * namespace; connectUnixNetlink() reads the variable), and its children
 * inherit it as they inherit the namespace of their parent.
 */
import { createConnection, type Socket } from 'node:net';
import { Errno, NLMSG_HDRLEN, NLM_F, NetlinkErrnoError, type NetlinkSocket, RTM, decode, errnoNumber } from '@ovs/genl-codec';
import { UNIX_FRAME, UnixFrameReader, UnixNetlinkConnectionError, type UnixResult, decodeUnixResult, encodeUnixFrame } from '@ovs/genl-codec/unix';
import { NETNSA } from '../net/core/net_namespace.js';

/** The environment variable that puts a process in a model namespace. */
export const OVS_KERNEL_NETNS = 'OVS_KERNEL_NETNS';

/** The NETNS frame's type byte and operations. */
export const UNIX_FRAME_NETNS = 12;
export const NETNS_OP = { LIST: 0, ADD: 1, DEL: 2, OPEN: 3, CLOSE: 4 } as const;
export type NetnsRequest = { op: 'list' } | { op: 'add' | 'del' | 'open'; name: string } | { op: 'close'; fd: number };

export function encodeNetnsRequest(r: NetnsRequest): Buffer {
  const op = NETNS_OP[r.op.toUpperCase() as keyof typeof NETNS_OP];
  const tail = r.op === 'close' ? Buffer.alloc(4) : Buffer.from(r.op === 'list' ? '' : r.name, 'utf8');
  if (r.op === 'close') tail.writeUInt32LE(r.fd >>> 0, 0);
  const p = Buffer.alloc(4 + tail.length);
  p.writeUInt8(op, 0);
  tail.copy(p, 4);
  return encodeUnixFrame(UNIX_FRAME_NETNS, p);
}

export function decodeNetnsRequest(payload: Buffer): NetnsRequest {
  if (payload.length < 4) throw new Error(`NETNS of ${payload.length} bytes (at least 4)`);
  const op = payload.readUInt8(0);
  const rest = payload.subarray(4);
  switch (op) {
    case NETNS_OP.LIST:
      return { op: 'list' };
    case NETNS_OP.ADD:
      return { op: 'add', name: rest.toString('utf8') };
    case NETNS_OP.DEL:
      return { op: 'del', name: rest.toString('utf8') };
    case NETNS_OP.OPEN:
      return { op: 'open', name: rest.toString('utf8') };
    case NETNS_OP.CLOSE:
      if (rest.length !== 4) throw new Error(`NETNS CLOSE with ${rest.length} bytes (expected 4)`);
      return { op: 'close', fd: rest.readUInt32LE(0) };
    default:
      throw new Error(`NETNS operation ${op}`);
  }
}

/**
 * A control connection to the daemon for NETNS requests: the model's
 * /run/netns. Descriptors it opens stay valid until close().
 */
export class NetnsControl {
  private readonly reader = new UnixFrameReader();
  private readonly waiting: Array<{ resolve: (r: UnixResult) => void; reject: (e: Error) => void }> = [];
  private lost: Error | undefined;

  private constructor(
    private readonly stream: Socket,
    readonly path: string,
  ) {
    stream.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
        for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) {
          const w = this.waiting.shift();
          if (f.type !== UNIX_FRAME.RESULT) throw new Error(`unexpected frame type ${f.type} from ${path}`);
          w?.resolve(decodeUnixResult(f.payload));
        }
      } catch (err) {
        this.fail(new UnixNetlinkConnectionError(Errno.EPROTO, err instanceof Error ? err.message : String(err)));
      }
    });
    stream.on('error', () => {});
    stream.on('close', () => this.fail(new UnixNetlinkConnectionError(Errno.ECONNRESET, `${path} closed the connection`)));
  }

  static connect(path: string): Promise<NetnsControl> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('error', (err: NodeJS.ErrnoException) => {
        s.destroy();
        const reason =
          err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
            ? 'no kernel running'
            : err.code === 'EACCES'
              ? 'permission denied'
              : err.code === 'ENOTSOCK'
                ? 'not a socket'
                : err.message;
        reject(new UnixNetlinkConnectionError(errnoNumber(err.code ?? '') ?? Errno.EIO, `cannot connect to ${path}: ${reason}`));
      });
      s.once('connect', () => resolve(new NetnsControl(s, path)));
    });
  }

  private fail(err: Error): void {
    this.lost ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** One request; an errno answer rejects with a NetlinkErrnoError. */
  async request(r: NetnsRequest): Promise<UnixResult> {
    if (this.lost !== undefined) throw this.lost;
    const answer = new Promise<UnixResult>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.stream.write(encodeNetnsRequest(r));
    const res = await answer;
    if (res.errno !== 0) throw new NetlinkErrnoError(res.errno, res.message);
    return res;
  }

  /** The mounted names, newest first. */
  async list(): Promise<string[]> {
    const r = await this.request({ op: 'list' });
    return JSON.parse(r.message ?? '[]') as string[];
  }

  /** open("/run/netns/NAME"): a descriptor for IFLA_NET_NS_FD / NETNSA_FD. */
  async open(name: string): Promise<number> {
    return (await this.request({ op: 'open', name })).value;
  }

  close(): void {
    this.stream.destroy();
  }
}

// ---------------------------------------------------------------------------
// RTM_GETNSID, as iproute2's get_netnsid_from_name() asks it

/**
 * The id the socket's namespace gives the namespace of an nsfs descriptor
 * (RTM_GETNSID with NETNSA_FD), -1 (NETNSA_NSID_NOT_ASSIGNED) when none.
 */
export async function getNetnsid(sock: NetlinkSocket, fd: number, seq: number): Promise<number> {
  const len = NLMSG_HDRLEN + 4 + 8;
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, RTM.GETNSID, true);
  dv.setUint16(6, NLM_F.REQUEST, true);
  dv.setUint32(8, seq, true);
  dv.setUint16(NLMSG_HDRLEN + 4, 8, true);
  dv.setUint16(NLMSG_HDRLEN + 6, NETNSA.FD, true);
  dv.setUint32(NLMSG_HDRLEN + 8, fd, true);
  await sock.send(b);
  for (;;) {
    const r = decode(await sock.recv(), { protocol: 0 });
    if (!r.ok) throw r.error;
    for (const m of r.messages) {
      if (m.header.seq !== seq || m.header.pid !== sock.portId) continue;
      if (m.kind === 'error') throw new NetlinkErrnoError(-(m.error ?? 0) || Errno.EIO, m.ext?.msg);
      if (m.kind === 'raw' && m.header.type === RTM.NEWNSID) return netnsaNsid(m.payload);
    }
  }
}

/** NETNSA_NSID of an RTM_NEWNSID payload (after struct rtgenmsg). */
function netnsaNsid(payload: Uint8Array): number {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  for (let off = 4; off + 4 <= payload.length; ) {
    const len = dv.getUint16(off, true);
    if (len < 4) break;
    if ((dv.getUint16(off + 2, true) & 0x3fff) === NETNSA.NSID && len >= 8) return dv.getInt32(off + 4, true);
    off += (len + 3) & ~3;
  }
  return -1;
}

/**
 * netns_map_init(): each mounted name's id in the socket's namespace (the
 * names `ip link` prints for link-netnsid, `ip netns list` beside each name).
 */
export async function netnsIds(
  ctl: Pick<NetnsControl, 'open' | 'request'>,
  sock: NetlinkSocket,
  names: readonly string[],
  firstSeq: number,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  let seq = firstSeq;
  for (const name of names) {
    let fd: number;
    try {
      fd = await ctl.open(name);
    } catch {
      continue; // gone meanwhile
    }
    try {
      ids.set(name, await getNetnsid(sock, fd, seq++));
    } finally {
      await ctl.request({ op: 'close', fd });
    }
  }
  return ids;
}
