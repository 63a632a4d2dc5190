/**
 * The AF_NETLINK transport against THIS machine's kernel (nlctrl, errors,
 * overruns, close), plus its event handling over a scripted raw socket. The
 * openvswitch module itself is exercised in the kernel lab
 * (packages/dpif-netlink/kernel-lab/suite.mjs), since this kernel has none;
 * dpif-netlink.test.ts checks that DpifNetlink.open() over it reports so.
 */
import {
  CTRL_CMD,
  type ErrorMessage,
  Errno,
  type GenlMessage,
  type Message,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  type NetlinkSocket,
  ctrlFamily,
  decode,
  encode,
  encodeAll,
  newFamilyTable,
} from '@ovs/genl-codec';
import * as posix from '@ovs/posix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NlSockError as DpifError, NlSock } from './netlink-socket.js';
import {
  AfNetlinkSocket,
  NetlinkSyscallError,
  type RawErrnoException,
  type RawNetlinkLike,
  NETLINK_SOCKOPT,
  NL_SOCK_RCVBUF,
  type PosixNetlinkRaw,
  SOL_NETLINK,
  closeAllNetlinkSockets,
  openNetlinkSocket,
} from './transport-netlink.js';

const GENERIC = NetlinkProtocol.NETLINK_GENERIC;
const GENL_ID_CTRL = 16;

// The project's machines (developers' and CI's) are Linux with AF_NETLINK and no
// openvswitch module: these tests run against that kernel, unconditionally.

const opened: NetlinkSocket[] = [];
async function open(protocol: number = GENERIC, rcvbuf?: number): Promise<NetlinkSocket> {
  const s = await openNetlinkSocket(protocol, rcvbuf === undefined ? {} : { rcvbuf });
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

function getFamily(name: string, seq: number, pid = 0): Message {
  const m: GenlMessage<typeof ctrlFamily> = {
    kind: 'genl',
    protocol: GENERIC,
    header: { len: 0, type: GENL_ID_CTRL, flags: NLM_F.REQUEST, seq, pid },
    family: ctrlFamily,
    cmd: CTRL_CMD.GETFAMILY,
    version: 1,
    reserved: 0,
    attrs: { familyName: name },
  };
  return m as GenlMessage;
}

function decodeOne(d: Uint8Array): Message {
  const r = decode(d, { protocol: GENERIC, families: newFamilyTable() });
  expect(r.ok).toBe(true);
  expect(r.messages).toHaveLength(1);
  return r.messages[0]!;
}

/**
 * What arrives until nothing has for `quietMs`: datagrams, and receive errors
 * as their errno names, in order (polled with tryRecv, so no recv() is left
 * waiting afterwards).
 */
async function drain(s: NetlinkSocket, quietMs: number): Promise<(Uint8Array | string)[]> {
  const out: (Uint8Array | string)[] = [];
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    let d: Uint8Array | undefined;
    try {
      d = s.tryRecv!();
    } catch (err) {
      expect(err).toBeInstanceOf(NetlinkErrnoError);
      out.push((err as NetlinkErrnoError).code);
      quietSince = Date.now();
      continue;
    }
    if (d === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    else {
      out.push(d);
      quietSince = Date.now();
    }
  }
  return out;
}

describe("AF_NETLINK on this machine's kernel", () => {
  it('nlctrl answers CTRL_CMD_GETFAMILY for nlctrl itself: id 16, to our port id', async () => {
    const s = await open();
    expect(s.protocol).toBe(GENERIC);
    expect(s.portId).toBeGreaterThan(0);
    await s.send(encode(getFamily('nlctrl', 1, s.portId)));
    const reply = decodeOne(await s.recv());
    expect(reply.kind).toBe('genl');
    const g = reply as GenlMessage<typeof ctrlFamily>;
    expect(g.family).toBe(ctrlFamily);
    expect(g.cmd).toBe(CTRL_CMD.NEWFAMILY);
    expect(g.header.seq).toBe(1);
    expect(g.header.pid).toBe(s.portId);
    expect(g.attrs.familyName).toBe('nlctrl');
    expect(g.attrs.familyId).toBe(GENL_ID_CTRL);
    expect(g.attrs.mcastGroups?.map((m) => m.name)).toContain('notify');
  });

  it('through NlSock: the family is learned, and an unknown family is ENOENT', async () => {
    const nl = new NlSock(await open(), newFamilyTable());
    const [reply] = await nl.transact(getFamily('nlctrl', 0));
    expect((reply as GenlMessage<typeof ctrlFamily>).attrs.familyId).toBe(GENL_ID_CTRL);
    const err = await nl.transact(getFamily('no_such_family', 0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DpifError);
    expect((err as DpifError).errno).toBe(Errno.ENOENT);
  });

  it("NETLINK_EXT_ACK is on: a policy violation comes back with the kernel's message and offset", async () => {
    const s = await open();
    expect((s as AfNetlinkSocket).extAck).toBe(true);
    // CTRL_ATTR_FAMILY_NAME longer than GENL_NAMSIZ - 1, which the codec refuses to encode: by hand.
    const name = Buffer.from('a_family_name_far_too_long\0');
    const attrLen = 4 + name.length;
    const req = Buffer.alloc(16 + 4 + ((attrLen + 3) & ~3));
    req.writeUInt32LE(req.length, 0);
    req.writeUInt16LE(GENL_ID_CTRL, 4);
    req.writeUInt16LE(NLM_F.REQUEST, 6);
    req.writeUInt32LE(7, 8);
    req.writeUInt8(CTRL_CMD.GETFAMILY, 16);
    req.writeUInt8(1, 17);
    req.writeUInt16LE(attrLen, 20);
    req.writeUInt16LE(2, 22); // CTRL_ATTR_FAMILY_NAME
    name.copy(req, 24);
    await s.send(req);
    const reply = decodeOne(await s.recv()) as ErrorMessage;
    expect(reply.kind).toBe('error');
    expect(reply.header.seq).toBe(7);
    expect(reply.error).toBe(-Errno.EINVAL);
    expect(reply.ext?.msg).toBe('Attribute failed policy validation');
    expect(reply.ext?.offs).toBe(20); // the attribute, counted from the request's nlmsghdr
    expect(reply.request.length).toBe(req.length); // NETLINK_CAP_ACK off: the whole request echoed
  });

  it('a 1 MiB receive buffer by default, as nl_sock_create() asks with SO_RCVBUFFORCE (root); SO_RCVBUF if given', async () => {
    const fdOf = (s: NetlinkSocket): number => (s as unknown as { raw: PosixNetlinkRaw }).raw.fd;
    const rcvbuf = (s: NetlinkSocket): number => posix.getsockopt(fdOf(s), posix.SOL_SOCKET, posix.SO_RCVBUF);
    const root = process.getuid?.() === 0;
    const dflt = await open();
    if (root)
      expect(rcvbuf(dflt)).toBe(2 * NL_SOCK_RCVBUF); // the kernel doubles what is asked (socket(7))
    else expect(rcvbuf(dflt)).toBeLessThanOrEqual(2 * NL_SOCK_RCVBUF);
    const small = await open(GENERIC, 16384);
    expect(rcvbuf(small)).toBe(32768);
  });

  it('answers the messages of one datagram one datagram each, in order', async () => {
    const s = await open();
    await s.send(encodeAll([getFamily('nlctrl', 1), getFamily('no_such_family', 2), getFamily('nlctrl', 3)]));
    const got = [decodeOne(await s.recv()), decodeOne(await s.recv()), decodeOne(await s.recv())];
    expect(got.map((m) => `${m.header.seq}:${m.kind}`)).toEqual(['1:genl', '2:error', '3:genl']);
    expect((got[1] as ErrorMessage).error).toBe(-Errno.ENOENT);
  });

  it('an overrun receive queue is ENOBUFS in its place among the datagrams, and the socket goes on', async () => {
    const s = await open(GENERIC, 1); // SO_RCVBUF at its minimum: a few replies fit
    const n = 200;
    await s.send(encodeAll(Array.from({ length: n }, (_, i) => getFamily('nlctrl', i + 1))));
    const got = await drain(s, 300);
    const events = got.map((x) => (typeof x === 'string' ? x : 'reply'));
    const seqs = got.filter((x): x is Uint8Array => typeof x !== 'string').map((d) => decodeOne(d).header.seq);
    expect(events.filter((e) => e !== 'reply')).toEqual(['ENOBUFS']); // one overrun, reported once
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs.length).toBeLessThan(n);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs); // what was kept comes in order
    // The socket goes on: a new request is answered.
    await s.send(encode(getFamily('nlctrl', 1000)));
    expect(decodeOne(await s.recv()).header.seq).toBe(1000);
  });

  it("joins and leaves nlctrl's notify group; a group the family lacks is EINVAL", async () => {
    const s = await open();
    await s.joinGroup(GENL_ID_CTRL); // nlctrl's "notify" group has id 16 (GENL_ID_CTRL)
    await s.leaveGroup(GENL_ID_CTRL);
    const err = await s.joinGroup(1_000_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetlinkSyscallError);
    expect((err as NetlinkSyscallError).errno).toBe(Errno.EINVAL);
  });

  it('each socket of a protocol has its own port id, chosen by the kernel; a protocol the kernel lacks is EPROTONOSUPPORT', async () => {
    const a = await open();
    const b = await open();
    const r = await open(NetlinkProtocol.NETLINK_ROUTE);
    expect(a.portId).not.toBe(b.portId);
    // Port ids are per protocol; autobind (netlink_autobind) tries the process's pid first, then negative ids.
    expect([a.portId, b.portId, r.portId]).toContain(process.pid);
    expect(r.protocol).toBe(NetlinkProtocol.NETLINK_ROUTE);
    const err = await openNetlinkSocket(99).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetlinkSyscallError);
    expect((err as NetlinkSyscallError).errno).toBe(Errno.EPROTONOSUPPORT);
    expect((err as NetlinkSyscallError).syscall).toBe('socket');
  });

  it('close(): a waiting recv() rejects with EBADF, and so does everything after', async () => {
    const s = await openNetlinkSocket(GENERIC);
    const waiting = s.recv();
    await s.close();
    await expect(waiting).rejects.toMatchObject({ errno: Errno.EBADF, code: 'EBADF' });
    await expect(s.recv()).rejects.toBeInstanceOf(NetlinkErrnoError);
    await expect(s.send(encode(getFamily('nlctrl', 1)))).rejects.toMatchObject({ errno: Errno.EBADF });
    await expect(s.joinGroup(GENL_ID_CTRL)).rejects.toMatchObject({ errno: Errno.EBADF });
    expect(() => s.tryRecv!()).toThrow(NetlinkErrnoError);
    await s.close(); // twice is fine
  });
});

/** A raw socket the test scripts: datagrams and errors queued "in the kernel", readiness fired by hand. */
class ScriptedRaw implements RawNetlinkLike {
  readonly portId = 4242;
  refs: string[] = [];
  sent: Uint8Array[] = [];
  queue: (Uint8Array | RawErrnoException)[] = [];
  armed = 0;
  closed = false;
  groups = new Set<number>();
  sendError: RawErrnoException | undefined;
  private listener: (() => void) | undefined;
  send(datagram: Uint8Array): void {
    if (this.closed) throw errno(Errno.EBADF, 'sendto');
    if (this.sendError) throw this.sendError;
    this.sent.push(datagram);
  }
  recv(): Uint8Array | undefined {
    if (this.closed) throw errno(Errno.EBADF, 'recv');
    const x = this.queue.shift();
    if (x instanceof Error) throw x;
    return x;
  }
  setsockopt(level: number, name: number, value: number): void {
    expect(level).toBe(SOL_NETLINK);
    if (value > 32) throw errno(Errno.EINVAL, 'setsockopt');
    if (name === NETLINK_SOCKOPT.ADD_MEMBERSHIP) this.groups.add(value);
    else if (name === NETLINK_SOCKOPT.DROP_MEMBERSHIP) this.groups.delete(value);
  }
  onReadable(listener: () => void): void {
    this.listener = listener;
  }
  arm(): void {
    this.armed++;
  }
  ref(): void {
    this.refs.push('ref');
  }
  unref(): void {
    this.refs.push('unref');
  }
  close(): void {
    this.closed = true;
  }
  /** Datagrams (and errors) arrive; the socket turns readable if armed. */
  arrive(...xs: (number[] | RawErrnoException)[]): void {
    for (const x of xs) this.queue.push(Array.isArray(x) ? new Uint8Array(x) : x);
    if (this.armed > 0) {
      this.armed = 0;
      this.listener?.();
    }
  }
}

function errno(n: number, syscall: string): RawErrnoException {
  return Object.assign(new Error(`${syscall} failed`), { errno: n, syscall });
}

describe('AfNetlinkSocket over a scripted raw socket', () => {
  it('hands datagrams and receive errors out in arrival order; ENOBUFS in its place', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    expect(s.portId).toBe(4242);
    raw.arrive([1], errno(Errno.ENOBUFS, 'recv'), [2], errno(Errno.EMSGSIZE, 'recv'), [4]);
    expect([...(await s.recv())]).toEqual([1]);
    await expect(s.recv()).rejects.toMatchObject({ name: 'NetlinkErrnoError', errno: Errno.ENOBUFS });
    expect([...s.tryRecv()!]).toEqual([2]);
    expect(() => s.tryRecv()).toThrow(expect.objectContaining({ name: 'NetlinkSyscallError', errno: Errno.EMSGSIZE, syscall: 'recv' }));
    expect([...(await s.recv())]).toEqual([4]);
    expect(s.tryRecv()).toBeUndefined();
  });

  it('waiting recv() calls are served in order when the socket turns readable, an error to the one it falls on', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    const a = s.recv();
    const b = s.recv();
    const c = s.recv();
    expect(raw.armed).toBeGreaterThan(0);
    raw.arrive([1], errno(Errno.ENOBUFS, 'recv'));
    expect([...(await a)]).toEqual([1]);
    await expect(b).rejects.toMatchObject({ errno: Errno.ENOBUFS });
    expect(raw.armed).toBe(1); // c still waits: armed again
    raw.arrive([3]);
    expect([...(await c)]).toEqual([3]);
  });

  it('a recv() behind waiting ones waits in line, even if a datagram is queued meanwhile', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    const a = s.recv();
    raw.queue.push(new Uint8Array([1])); // queued, readiness not yet reported
    const b = s.recv();
    raw.arrive([2]);
    expect([...(await a), ...(await b)]).toEqual([1, 2]);
  });

  it('keeps the event loop alive only while a recv() waits', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    expect(raw.refs).toEqual(['unref']);
    const a = s.recv();
    const b = s.recv();
    expect(raw.refs).toEqual(['unref', 'ref']);
    raw.arrive([1]);
    expect(raw.refs).toEqual(['unref', 'ref']);
    raw.arrive([2]);
    expect(raw.refs).toEqual(['unref', 'ref', 'unref']);
    expect([...(await a), ...(await b)]).toEqual([1, 2]);
    await s.send(new Uint8Array([1]));
    expect(raw.refs).toEqual(['unref', 'ref', 'unref']); // a send never waits
  });

  it('sockets still open are closed on exit (closeAllNetlinkSockets)', async () => {
    closeAllNetlinkSockets(); // what earlier tests left
    const raws = [new ScriptedRaw(), new ScriptedRaw(), new ScriptedRaw()];
    const socks = raws.map((r) => new AfNetlinkSocket(r, GENERIC));
    await socks[1]!.close();
    expect(closeAllNetlinkSockets()).toBe(2);
    expect(raws.map((r) => r.closed)).toEqual([true, true, true]);
    expect(closeAllNetlinkSockets()).toBe(0);
    await expect(socks[0]!.recv()).rejects.toMatchObject({ errno: Errno.EBADF });
  });

  it('send() resolves once sendto() returned, rejects with its errno; close() fails a waiting recv() with EBADF', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    await s.send(new Uint8Array([1, 2, 3, 4]).subarray(1, 3));
    expect(raw.sent.map((x) => [...x])).toEqual([[2, 3]]);
    raw.sendError = errno(Errno.EPERM, 'sendto');
    await expect(s.send(new Uint8Array([5]))).rejects.toMatchObject({ name: 'NetlinkSyscallError', errno: Errno.EPERM, syscall: 'sendto' });
    const waiting = s.recv();
    await s.close();
    expect(raw.closed).toBe(true);
    await expect(waiting).rejects.toMatchObject({ errno: Errno.EBADF });
    expect(raw.refs.at(-1)).toBe('unref');
    raw.arrive([9]); // a late readiness is ignored
    await expect(s.send(new Uint8Array([6]))).rejects.toMatchObject({ errno: Errno.EBADF });
  });

  it('memberships are setsockopt(SOL_NETLINK, NETLINK_ADD/DROP_MEMBERSHIP); its errno is kept', async () => {
    const raw = new ScriptedRaw();
    const s = new AfNetlinkSocket(raw, GENERIC);
    await s.joinGroup(7);
    expect([...raw.groups]).toEqual([7]);
    await s.leaveGroup(7);
    expect([...raw.groups]).toEqual([]);
    await expect(s.joinGroup(99)).rejects.toMatchObject({ errno: Errno.EINVAL, syscall: 'setsockopt(NETLINK_ADD_MEMBERSHIP, 99)' });
  });
});

describe('without the native addon', () => {
  afterEach(() => {
    vi.doUnmock('@ovs/posix');
    vi.resetModules();
  });

  it('openNetlinkSocket() rejects with a clear DpifError (ENOSYS) naming the missing addon', async () => {
    vi.resetModules();
    vi.doMock('@ovs/posix', async (importOriginal) => ({
      ...(await importOriginal<typeof import('@ovs/posix')>()),
      socket: () => {
        throw new Error('@ovs/posix: no native build of the addon for linux-x64 (No native build was found for platform=linux arch=x64)');
      },
    }));
    const fresh = await import('./transport-netlink.js');
    const nl = await import('./netlink-socket.js');
    const codec = await import('@ovs/genl-codec');
    const err = await fresh.openNetlinkSocket(GENERIC).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(fresh.NetlinkBindingUnavailableError);
    expect(err).toBeInstanceOf(nl.NlSockError);
    expect(err).toBeInstanceOf(codec.NetlinkErrnoError);
    expect((err as DpifError).errno).toBe(Errno.ENOSYS);
    expect((err as DpifError).message).toMatch(/^AF_NETLINK transport: the native addon of @ovs\/posix is unavailable \(.+\).*: ENOSYS \(38\)/);
    expect((err as Error).cause).toBeDefined();
  });
});
