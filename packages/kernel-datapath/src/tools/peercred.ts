/**
 * Who is at the other end of a daemon connection, for the privilege the
 * kernel would grant the sender (netlink_ns_capable(skb, user_ns,
 * CAP_NET_ADMIN) for GENL_ADMIN_PERM / GENL_UNS_ADMIN_PERM).
 *
 * The peer is the process the kernel recorded when it connected: SO_PEERCRED,
 * through @ovs/posix's addon (Node has no API for it). Where that addon
 * cannot load, it is found the way ss(8) finds it: the kernel's own unix
 * socket diagnostics (NETLINK_SOCK_DIAG, UDIAG_SHOW_PEER) name the peer socket
 * of ours, and the processes holding that socket are read from /proc —
 * iproute2's `ss -xpnH`, a process spawned per connection (some 15 ms here,
 * where SO_PEERCRED costs microseconds). Each process's effective uid and
 * capabilities come from /proc/PID/status.
 *
 * The modelled kernel belongs to the daemon's user, as a user namespace
 * belongs to its creator: a process of that effective uid holds
 * CAP_NET_ADMIN in it; any other needs CAP_NET_ADMIN itself (CapEff bit 12).
 */
import { execFile } from 'node:child_process';
import { getPeerCred } from '@ovs/posix';
import { fstatSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

const CAP_NET_ADMIN = 12;

export interface PeerCred {
  /** The processes holding the peer socket (usually one). */
  pids: number[];
  /** Whether every one of them has CAP_NET_ADMIN over the modelled kernel. */
  capNetAdmin: boolean;
}

/** Why the peer could not be identified: ss missing or failing, or the peer not visible. */
export class PeerCredError extends Error {
  override readonly name = 'PeerCredError';
  constructor(
    message: string,
    /** True when the means itself is missing (no ss), rather than this peer. */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

/** The daemon's end of a connection: the fd Node keeps in its handle. */
function streamFd(stream: Socket): number {
  const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new PeerCredError('the connection has no file descriptor');
  return fd;
}

/** SO_PEERCRED's pid, or undefined where @ovs/posix's addon cannot load here (or predates the call). */
function soPeerCredPid(fd: number): number | undefined {
  try {
    return getPeerCred(fd).pid;
  } catch {
    return undefined;
  }
}

function runSs(timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-xpnH'], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new PeerCredError(`ss -xpnH failed: ${code === 'ENOENT' ? 'ss (iproute2) is not installed' : err.message}`, code === 'ENOENT'));
        return;
      }
      resolve(stdout);
    });
  });
}

/** One line of `ss -xpnH`, from its end: local inode, peer address, peer inode, processes. */
const SS_LINE = /\s(\d+)\s+\S+\s+(\d+)\s*(users:\(.*\))?\s*$/;

/** The pids `ss -xpnH` shows holding each unix socket inode, and each socket's peer inode. */
export function parseSs(out: string): { peerOf: Map<number, number>; pidsOf: Map<number, number[]> } {
  const peerOf = new Map<number, number>();
  const pidsOf = new Map<number, number[]>();
  for (const line of out.split('\n')) {
    const m = SS_LINE.exec(line);
    if (m === null) continue;
    const ino = Number(m[1]);
    peerOf.set(ino, Number(m[2]));
    if (m[3] !== undefined)
      pidsOf.set(
        ino,
        [...m[3].matchAll(/pid=(\d+)/g)].map((p) => Number(p[1])),
      );
  }
  return { peerOf, pidsOf };
}

/** The processes `ss -xpnH` shows holding the peer of our socket `ino`. */
async function ssPeerPids(ino: number, timeoutMs: number): Promise<number[]> {
  const { peerOf, pidsOf } = parseSs(await runSs(timeoutMs));
  const peer = peerOf.get(ino);
  if (peer === undefined) throw new PeerCredError(`socket ${ino} is not in the kernel's unix socket table`);
  const pids = pidsOf.get(peer) ?? [];
  if (pids.length === 0) throw new PeerCredError(`no visible process holds the peer socket ${peer}`);
  return pids;
}

/** Whether a process holds CAP_NET_ADMIN over a kernel owned by `ownerUid` (undefined: it is gone). */
export function processCapNetAdmin(pid: number, ownerUid: number): boolean | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const euid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return euid === ownerUid || ((capEff >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
}

/** The peer of a unix connection accepted by this process, and its privilege. */
export async function unixPeerCred(stream: Socket, timeoutMs = 5000): Promise<PeerCred> {
  const fd = streamFd(stream);
  const pid = soPeerCredPid(fd);
  const pids = pid !== undefined ? [pid] : await ssPeerPids(fstatSync(fd).ino, timeoutMs);
  const owner = process.geteuid?.() ?? -1;
  const caps = pids.map((pid) => processCapNetAdmin(pid, owner));
  if (caps.some((c) => c === undefined)) throw new PeerCredError('the peer process is gone');
  return { pids, capNetAdmin: caps.every((c) => c === true) };
}
