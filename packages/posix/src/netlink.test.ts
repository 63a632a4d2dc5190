/**
 * The AF_NETLINK calls and the FdWatcher against THIS machine's kernel
 * (NETLINK_GENERIC's nlctrl, NETLINK_ROUTE's link dump): what the kernel
 * answers is checked against what the kernel documents (linux/netlink.h,
 * linux/genetlink.h, its extended-ack texts) and against /sys/class/net,
 * not against this code's own output. Requests and replies are built and
 * read by hand here, so that this package needs nothing above it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import * as posix from './index.js';
import { addon, findAddon } from './addon.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const NETLINK_ROUTE = 0;
const NETLINK_GENERIC = 16;
const GENL_ID_CTRL = 16;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLM_F_DUMP = 0x300;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const IFLA_IFNAME = 3;

const fds: number[] = [];
const watchers: posix.FdWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.stop();
  for (const fd of fds.splice(0)) posix.close(fd);
});

function nlSocket(protocol: number): number {
  const fd = posix.socket(posix.AF_NETLINK, posix.SOCK_RAW | posix.SOCK_CLOEXEC | posix.SOCK_NONBLOCK, protocol);
  fds.push(fd);
  return fd;
}

const align4 = (n: number): number => (n + 3) & ~3;

function attr(type: number, payload: Buffer): Buffer {
  const a = Buffer.alloc(align4(4 + payload.length));
  a.writeUInt16LE(4 + payload.length, 0);
  a.writeUInt16LE(type, 2);
  payload.copy(a, 4);
  return a;
}

/** nlmsghdr + payload. */
function nlmsg(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const m = Buffer.alloc(16 + payload.length);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE(type, 4);
  m.writeUInt16LE(flags, 6);
  m.writeUInt32LE(seq, 8);
  payload.copy(m, 16);
  return m;
}

/** CTRL_CMD_GETFAMILY for `name` (genlmsghdr cmd, version 1). */
function getFamily(name: string, seq: number, flags = NLM_F_REQUEST): Buffer {
  return nlmsg(GENL_ID_CTRL, flags, seq, Buffer.concat([Buffer.from([CTRL_CMD_GETFAMILY, 1, 0, 0]), attr(CTRL_ATTR_FAMILY_NAME, Buffer.from(`${name}\0`))]));
}

interface Msg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Buffer;
}

/** The netlink messages of one datagram. */
function messages(datagram: Uint8Array): Msg[] {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const out: Msg[] = [];
  for (let off = 0; off + 16 <= b.length; ) {
    const len = b.readUInt32LE(off);
    out.push({
      type: b.readUInt16LE(off + 4),
      flags: b.readUInt16LE(off + 6),
      seq: b.readUInt32LE(off + 8),
      pid: b.readUInt32LE(off + 12),
      payload: b.subarray(off + 16, off + len),
    });
    off += align4(len);
  }
  return out;
}

function attrs(b: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let off = 0; off + 4 <= b.length; ) {
    const len = b.readUInt16LE(off);
    if (len < 4) break;
    out.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

const cstr = (b: Buffer | undefined): string | undefined => b?.toString('utf8').replace(/\0.*$/s, '');

/** The error a call throws. */
function thrown(f: () => unknown): posix.PosixError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(posix.PosixError);
    return err as posix.PosixError;
  }
  throw new Error('did not throw');
}

/** Read what is queued now (MSG_DONTWAIT) until EAGAIN: datagrams, and errors as their codes. */
function drainNow(fd: number): (Uint8Array | string)[] {
  const out: (Uint8Array | string)[] = [];
  for (;;) {
    try {
      out.push(posix.recv(fd, posix.MSG_DONTWAIT));
    } catch (err) {
      const code = (err as posix.PosixError).code;
      if (code === 'EAGAIN') return out;
      out.push(code);
    }
  }
}

/** Run a module script in a child node; its exit code and output, killed after 10 s. */
function child(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', `import * as posix from ${JSON.stringify(dist)};\n${script}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe("AF_NETLINK calls on this machine's kernel", () => {
  it("the constants are Linux's, as the addon was compiled with them", () => {
    const c = addon().consts;
    for (const [name, value] of Object.entries(c)) expect([name, (posix as unknown as Record<string, number>)[name]]).toEqual([name, value]);
  });

  it('NETLINK_GENERIC: CTRL_CMD_GETFAMILY for nlctrl is answered with its id 16, to our kernel-chosen port id', () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.connect(fd, { pid: 0, groups: 0 }); // autobinds, as lib/netlink-socket.c's nl_sock_create()
    const me = posix.getsockname(fd);
    expect(me.pid).toBeGreaterThan(0);
    expect(me.groups).toBe(0);
    expect(posix.sendto(fd, getFamily('nlctrl', 1))).toBe(getFamily('nlctrl', 1).length);
    const { data, addr } = posix.recvfrom(fd, posix.MSG_DONTWAIT); // the kernel answered during sendto()
    expect(addr).toEqual({ pid: 0, groups: 0 });
    const [m, ...more] = messages(data);
    expect(more).toEqual([]);
    expect(m!.type).toBe(GENL_ID_CTRL);
    expect(m!.seq).toBe(1);
    expect(m!.pid).toBe(me.pid);
    const a = attrs(m!.payload.subarray(4));
    expect(cstr(a.get(CTRL_ATTR_FAMILY_NAME))).toBe('nlctrl');
    expect(a.get(CTRL_ATTR_FAMILY_ID)!.readUInt16LE(0)).toBe(GENL_ID_CTRL);
    expect(thrown(() => posix.recv(fd, posix.MSG_DONTWAIT)).code).toBe('EAGAIN');
  });

  it('NETLINK_ROUTE: an RTM_GETLINK dump lists the links /sys/class/net lists, then NLMSG_DONE', () => {
    const fd = nlSocket(NETLINK_ROUTE);
    posix.bind(fd);
    posix.sendto(fd, nlmsg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, Buffer.alloc(16)));
    const names: string[] = [];
    let done = false;
    for (let i = 0; i < 1000 && !done; i++) {
      for (const m of messages(posix.recv(fd, posix.MSG_DONTWAIT))) {
        expect(m.seq).toBe(7);
        if (m.type === NLMSG_DONE) done = true;
        else {
          expect(m.type).toBe(RTM_NEWLINK);
          names.push(cstr(attrs(m.payload.subarray(16)).get(IFLA_IFNAME))!);
        }
      }
    }
    expect(done).toBe(true);
    expect(names).toContain('lo');
    expect([...names].sort()).toEqual(readdirSync('/sys/class/net').sort());
  });

  it("NETLINK_EXT_ACK: a request the policy refuses comes back EINVAL with the kernel's message and offset; NETLINK_CAP_ACK trims the echo", () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.setsockopt(fd, posix.SOL_NETLINK, posix.NETLINK_EXT_ACK, 1);
    posix.setsockopt(fd, posix.SOL_NETLINK, posix.NETLINK_CAP_ACK, 1);
    expect(posix.getsockopt(fd, posix.SOL_NETLINK, posix.NETLINK_EXT_ACK)).toBe(1);
    posix.bind(fd);
    const bad = getFamily('a_family_name_far_too_long', 9); // longer than GENL_NAMSIZ - 1
    posix.sendto(fd, bad);
    const [m] = messages(posix.recv(fd, posix.MSG_DONTWAIT));
    expect(m!.type).toBe(NLMSG_ERROR);
    expect(m!.flags & NLM_F_ACK_TLVS).toBe(NLM_F_ACK_TLVS);
    expect(m!.payload.readInt32LE(0)).toBe(-22); // -EINVAL
    // struct nlmsgerr: error, then the request's header only (capped), then the TLVs.
    const tlvs = attrs(m!.payload.subarray(4 + 16));
    expect(cstr(tlvs.get(NLMSGERR_ATTR_MSG))).toBe('Attribute failed policy validation');
    expect(tlvs.get(NLMSGERR_ATTR_OFFS)!.readUInt32LE(0)).toBe(20); // the attribute, from the request's nlmsghdr
    expect(m!.payload.readUInt32LE(4)).toBe(bad.length); // the echoed header is the request's
  });

  it('an ack (NLM_F_ACK) of a good request: error 0', () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.bind(fd);
    posix.sendto(fd, getFamily('nlctrl', 3, NLM_F_REQUEST | NLM_F_ACK));
    const got = drainNow(fd).flatMap((d) => (typeof d === 'string' ? [] : messages(d)));
    expect(got.map((m) => m.type)).toEqual([GENL_ID_CTRL, NLMSG_ERROR]);
    expect(got[1]!.payload.readInt32LE(0)).toBe(0);
  });

  it('a receive queue overrun is ENOBUFS, returned (not thrown at the process) once, and the socket goes on; NETLINK_NO_ENOBUFS silences it', () => {
    for (const noEnobufs of [false, true]) {
      const fd = nlSocket(NETLINK_GENERIC);
      posix.setsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUF, 1); // the kernel's minimum: a few replies fit
      if (noEnobufs) posix.setsockopt(fd, posix.SOL_NETLINK, posix.NETLINK_NO_ENOBUFS, 1);
      posix.bind(fd);
      const n = 200;
      posix.sendto(fd, Buffer.concat(Array.from({ length: n }, (_, i) => getFamily('nlctrl', i + 1))));
      const got = drainNow(fd);
      const errors = got.filter((x) => typeof x === 'string');
      const seqs = got.filter((x): x is Uint8Array => typeof x !== 'string').map((d) => messages(d)[0]!.seq);
      expect(errors).toEqual(noEnobufs ? [] : ['ENOBUFS']);
      expect(seqs.length).toBeGreaterThan(0);
      expect(seqs.length).toBeLessThan(n);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      posix.sendto(fd, getFamily('nlctrl', 1000));
      expect(messages(posix.recv(fd, posix.MSG_DONTWAIT))[0]!.seq).toBe(1000);
    }
  });

  it('errors as PosixError with errno and call: EPROTONOSUPPORT, EADDRINUSE, EINVAL, EBADF, ENOTSOCK', () => {
    expect(thrown(() => posix.socket(posix.AF_NETLINK, posix.SOCK_RAW, 99))).toMatchObject({ code: 'EPROTONOSUPPORT', errno: 93, syscall: 'socket' });
    const a = nlSocket(NETLINK_GENERIC);
    posix.bind(a);
    const b = nlSocket(NETLINK_GENERIC);
    expect(thrown(() => posix.bind(b, posix.getsockname(a)))).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    expect(thrown(() => posix.setsockopt(a, posix.SOL_NETLINK, posix.NETLINK_ADD_MEMBERSHIP, 1_000_000))).toMatchObject({
      code: 'EINVAL',
      syscall: 'setsockopt',
    });
    posix.setsockopt(a, posix.SOL_NETLINK, posix.NETLINK_ADD_MEMBERSHIP, GENL_ID_CTRL); // nlctrl's "notify" group
    posix.setsockopt(a, posix.SOL_NETLINK, posix.NETLINK_DROP_MEMBERSHIP, GENL_ID_CTRL);
    expect(thrown(() => posix.sendto(1 << 20, getFamily('nlctrl', 1)))).toMatchObject({ code: 'EBADF', errno: 9, syscall: 'sendto' });
    const notSocket = openSync('/dev/null', 'r');
    try {
      expect(thrown(() => posix.recv(notSocket, posix.MSG_DONTWAIT))).toMatchObject({ code: 'ENOTSOCK', syscall: 'recv' });
    } finally {
      closeSync(notSocket);
    }
    expect(thrown(() => posix.close(1 << 20))).toMatchObject({ code: 'EBADF', syscall: 'close' });
    expect(() => posix.sendto(a, 'x' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('SO_RCVBUF: the kernel keeps twice what is asked (socket(7))', () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.setsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUF, 65536);
    expect(posix.getsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUF)).toBe(131072);
  });
});

describe('FdWatcher: readiness without blocking the event loop', () => {
  it('an armed watcher reports POLLIN once the reply is queued; the event loop runs meanwhile', async () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.bind(fd);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const ready = new Promise<number>((resolve) => {
      const w = new posix.FdWatcher(fd, resolve);
      watchers.push(w);
      w.ref();
      w.arm();
    });
    await new Promise((r) => setTimeout(r, 30));
    const before = ticks;
    expect(before).toBeGreaterThan(0); // the loop ran while the watcher waited
    posix.sendto(fd, getFamily('nlctrl', 5));
    const revents = await ready;
    clearInterval(ticker);
    expect(revents & posix.POLLIN).toBe(posix.POLLIN);
    expect(messages(posix.recv(fd, posix.MSG_DONTWAIT))[0]!.seq).toBe(5);
  });

  it('a pending socket error (ENOBUFS) is an event too (POLLERR or POLLIN), and recv() returns the error', async () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.setsockopt(fd, posix.SOL_SOCKET, posix.SO_RCVBUF, 1);
    posix.bind(fd);
    posix.sendto(fd, Buffer.concat(Array.from({ length: 200 }, (_, i) => getFamily('nlctrl', i + 1))));
    const revents = await new Promise<number>((resolve) => {
      const w = new posix.FdWatcher(fd, resolve);
      watchers.push(w);
      w.ref();
      w.arm();
    });
    expect(revents & (posix.POLLIN | posix.POLLERR)).not.toBe(0);
    expect(thrown(() => posix.recv(fd, posix.MSG_DONTWAIT)).code).toBe('ENOBUFS');
  });

  it('one thread per watcher, gone after stop(): no libuv threadpool thread is held', () => {
    const threads = (): number => readdirSync('/proc/self/task').length;
    const base = threads();
    const fd = nlSocket(NETLINK_GENERIC);
    const ws = [0, 1, 2].map(() => new posix.FdWatcher(fd, () => {}));
    for (const w of ws) w.arm();
    expect(threads()).toBe(base + 3);
    for (const w of ws) w.stop();
    expect(threads()).toBe(base);
    expect(readFileSync('/proc/self/status', 'utf8')).toMatch(/Threads:/);
  });

  it('close while a wait is pending: stop() then close() ends it, no callback follows', async () => {
    const fd = nlSocket(NETLINK_GENERIC);
    posix.bind(fd);
    let called = 0;
    const w = new posix.FdWatcher(fd, () => called++);
    w.ref();
    w.arm();
    w.stop();
    posix.close(fds.pop()!);
    w.arm(); // after stop: nothing
    w.ref();
    await new Promise((r) => setTimeout(r, 20));
    expect(called).toBe(0);
    expect(w.stopped).toBe(true);
  });

  it('an armed watcher that is not referenced lets the process end; a referenced one keeps it until its event', async () => {
    const unref = await child(`
      const fd = posix.socket(posix.AF_NETLINK, posix.SOCK_RAW | posix.SOCK_NONBLOCK, 16);
      posix.bind(fd);
      const w = new posix.FdWatcher(fd, () => console.log('event'));
      w.arm();
      console.log('armed');`);
    expect(unref).toEqual({ code: 0, out: 'armed\n' });
    const ref = await child(`
      const fd = posix.socket(posix.AF_NETLINK, posix.SOCK_RAW | posix.SOCK_NONBLOCK, 16);
      posix.bind(fd);
      const w = new posix.FdWatcher(fd, (ev) => { console.log('event', ev & posix.POLLIN); w.stop(); posix.close(fd); });
      w.ref();
      w.arm();
      setTimeout(() => { console.log('send'); posix.sendto(fd, Buffer.from(${JSON.stringify([...getFamily('nlctrl', 1)])})); }, 50).unref();`);
    expect(ref).toEqual({ code: 0, out: 'send\nevent 1\n' });
  });

  it('process.exit() with watchers still armed and referenced exits cleanly', async () => {
    const r = await child(`
      const fd = posix.socket(posix.AF_NETLINK, posix.SOCK_RAW | posix.SOCK_NONBLOCK, 0);
      for (let i = 0; i < 4; i++) { const w = new posix.FdWatcher(fd, () => {}); w.ref(); w.arm(); }
      setTimeout(() => { console.log('bye'); process.exit(3); }, 20);`);
    expect(r).toEqual({ code: 3, out: 'bye\n' });
  });
});

describe('finding the addon', () => {
  it("findAddon() picks the file node-gyp-build's load.path() picks (the lookup the install script makes)", () => {
    const pkg = fileURLToPath(new URL('..', import.meta.url));
    const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string };
    expect(findAddon(pkg)).toBe(nodeGypBuild.path(pkg));
    expect(findAddon(join(pkg, 'no-such-dir'))).toBeUndefined();
  });
});

describe('addonAvailable', () => {
  it('is true here, where a prebuild fits', () => {
    expect(posix.addonAvailable()).toBe(true);
  });
});
