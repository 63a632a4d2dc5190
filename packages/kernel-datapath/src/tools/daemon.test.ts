/**
 * The daemon and the unix transport end to end: a Kernel served on a temp
 * socket path, spoken to through connectUnixNetlink() in netlink bytes only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttrSet,
  CTRL_CMD,
  Errno,
  GENL_FLAGS,
  GENL_ID_CTRL,
  type GenlFamilyDef,
  type GenlMessage,
  type Message,
  NLMSG,
  NLM_F,
  NetlinkErrnoError,
  NetlinkProtocol,
  attr,
  ctrlFamily,
  decode,
  encode,
  u32,
} from '@ovs/genl-codec';
import { createConnection } from 'node:net';
import { rejection } from '@ovs/genl-codec/testing';
import {
  UNIX_FRAME,
  UnixFrameReader,
  type UnixNetlinkOptions,
  type UnixNetlinkSocket,
  connectUnixNetlink,
  decodeUnixResult,
  encodeUnixFault,
  encodeUnixFrame,
  encodeUnixHello,
  unixFaultRequest,
} from '@ovs/genl-codec/unix';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Daemon, DaemonError, MAX_CLIENT_FRAME, MAX_UNSENT, startDaemon } from './daemon.js';
import { Kernel } from '../kernel.js';

const GENERIC = NetlinkProtocol.NETLINK_GENERIC;

// A small family of the test's own: POKE needs CAP_NET_ADMIN and multicasts an event.
const testAttrs = new AttrSet('test_attr', { value: attr(1, 'TEST_ATTR_VALUE', u32) });
const testFamily: GenlFamilyDef<typeof testAttrs> = {
  name: 'test_events',
  version: 1,
  cmds: { TEST_CMD_POKE: 1 },
  attrs: testAttrs,
  mcastGroups: ['events'],
};

function kernelWithTestFamily(opts: ConstructorParameters<typeof Kernel>[0] = {}): { kernel: Kernel; familyId: number; group: number } {
  const kernel = new Kernel(opts);
  const fam = kernel.genl.register({
    def: testFamily as unknown as GenlFamilyDef,
    maxattr: 1,
    policy: testAttrs,
    mcgrps: ['events'],
    ops: [
      {
        cmd: 1,
        flags: GENL_FLAGS.ADMIN_PERM,
        liberal: false,
        noDumpValidate: false,
        doit(info) {
          const event = {
            kind: 'genl',
            protocol: GENERIC,
            header: { len: 0, type: info.family.id, flags: 0, seq: info.header.seq, pid: info.header.pid },
            family: testFamily,
            cmd: 1,
            version: 1,
            reserved: 0,
            attrs: { value: 7 },
          } as unknown as GenlMessage;
          info.notify(event, info.family.mcgrps[0]!.id);
          return 0;
        },
      },
    ],
  });
  return { kernel, familyId: fam.id, group: fam.mcgrps[0]!.id };
}

function getFamily(seq: number, name = 'nlctrl', flags: number = NLM_F.REQUEST): Uint8Array {
  return encode({
    kind: 'genl',
    protocol: GENERIC,
    header: { len: 0, type: GENL_ID_CTRL, flags, seq, pid: 0 },
    family: ctrlFamily,
    cmd: CTRL_CMD.GETFAMILY,
    version: 2,
    reserved: 0,
    attrs: { familyName: name },
  } as GenlMessage);
}

function poke(familyId: number, seq: number): Uint8Array {
  // nlmsghdr + genlmsghdr(cmd 1, version 1) + TEST_ATTR_VALUE u32 1
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 28, true);
  dv.setUint16(4, familyId, true);
  dv.setUint16(6, NLM_F.REQUEST | NLM_F.ACK, true);
  dv.setUint32(8, seq, true);
  b[16] = 1;
  b[17] = 1;
  dv.setUint16(20, 8, true);
  dv.setUint16(22, 1, true);
  dv.setUint32(24, 1, true);
  return b;
}

function messages(d: Uint8Array): Message[] {
  const r = decode(d, { protocol: GENERIC });
  if (!r.ok) throw r.error;
  return r.messages;
}

function recvWithin(sock: UnixNetlinkSocket, ms = 2000): Promise<Uint8Array> {
  return Promise.race([sock.recv(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`nothing received within ${ms} ms`)), ms))]);
}

const dirs: string[] = [];
function tempSocketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ovs-kernel-daemon-'));
  dirs.push(dir);
  return join(dir, 'k.sock');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ovs-kernel daemon over the unix transport', () => {
  let daemon: Daemon;
  let path: string;
  let familyId: number;
  let group: number;
  const open: UnixNetlinkSocket[] = [];
  const connect = async (opts: Partial<UnixNetlinkOptions> = {}): Promise<UnixNetlinkSocket> => {
    const s = await connectUnixNetlink(path, { protocol: GENERIC, ...opts });
    open.push(s);
    return s;
  };

  beforeEach(async () => {
    path = tempSocketPath();
    const k = kernelWithTestFamily({ dumpChunkSize: 1 });
    familyId = k.familyId;
    group = k.group;
    daemon = await startDaemon({ socketPath: path, kernel: k.kernel, log: () => {} });
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await daemon.close();
  });

  it('hands out a port id per connection, and the kernel sees the socket with the hello options', async () => {
    const a = await connect();
    const b = await connect({ capNetAdmin: false, netns: 'blue', rcvbuf: 4096 });
    expect(a.portId).toBeGreaterThan(0);
    expect(b.portId).not.toBe(a.portId);
    const kb = [...daemon.kernel.openSockets].find((s) => s.portId === b.portId)!;
    expect(kb).toMatchObject({ protocol: GENERIC, capNetAdmin: false, rcvbuf: 4096 });
    expect(kb.netns.name).toBe('blue');
    expect(daemon.connections).toBe(2);
  });

  it('binds a requested port id, and refuses a taken one with EADDRINUSE', async () => {
    const a = await connect({ portId: 4242 });
    expect(a.portId).toBe(4242);
    expect((await rejection(connect({ portId: 4242 }), NetlinkErrnoError)).errno).toBe(Errno.EADDRINUSE);
  });

  it('refuses a protocol the kernel does not have with EPROTONOSUPPORT', async () => {
    const err = await rejection(connect({ protocol: NetlinkProtocol.NETLINK_USERSOCK }), NetlinkErrnoError);
    expect(err.code).toBe('EPROTONOSUPPORT');
  });

  it('sends a request and receives the reply; send() resolves after the reply has arrived', async () => {
    const s = await connect();
    await s.send(getFamily(1, 'nlctrl', NLM_F.REQUEST | NLM_F.ACK));
    const reply = s.tryRecv();
    expect(reply).toBeDefined();
    const [m] = messages(reply!);
    expect(m).toMatchObject({
      kind: 'genl',
      cmd: CTRL_CMD.NEWFAMILY,
      header: { seq: 1, pid: s.portId },
      attrs: { familyName: 'nlctrl', familyId: GENL_ID_CTRL },
    });
    const ack = messages(await recvWithin(s))[0]!;
    expect(ack).toMatchObject({ kind: 'error', error: 0, header: { seq: 1 } });

    await s.send(getFamily(2, 'no_such_family'));
    expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'error', error: -Errno.ENOENT, header: { seq: 2 } });
  });

  it('carries a dump across several datagrams, ending with NLMSG_DONE', async () => {
    const s = await connect();
    await s.send(getFamily(5, 'nlctrl', NLM_F.REQUEST | NLM_F.DUMP));
    const names: string[] = [];
    let datagrams = 0;
    for (;;) {
      const d = await recvWithin(s);
      datagrams++;
      const ms = messages(d);
      for (const m of ms) if (m.kind === 'genl') names.push(String((m.attrs as { familyName?: string }).familyName));
      if (ms.some((m) => m.header.type === NLMSG.DONE)) break;
    }
    expect(names[0]).toBe('nlctrl');
    expect(names.at(-1)).toBe('test_events');
    expect(datagrams).toBe(names.length + 1); // one family per chunk (dumpChunkSize 1), then DONE
  });

  it("delivers another connection's multicast notification without being asked", async () => {
    const listener = await connect({ capNetAdmin: false });
    await listener.joinGroup(group);
    const actor = await connect();
    const pending = recvWithin(listener);
    await actor.send(poke(familyId, 9));
    const event = await pending;
    const dv = new DataView(event.buffer, event.byteOffset, event.byteLength);
    expect(dv.getUint16(4, true)).toBe(familyId);
    expect(event[16]).toBe(1); // cmd
    expect(dv.getUint32(24, true)).toBe(7); // TEST_ATTR_VALUE
    // The actor got its ack only (no NLM_F_ECHO).
    expect(messages(await recvWithin(actor))[0]).toMatchObject({ kind: 'error', error: 0, header: { seq: 9 } });
    expect(actor.tryRecv()).toBeUndefined();

    await listener.leaveGroup(group);
    await actor.send(poke(familyId, 10));
    await recvWithin(actor);
    expect(listener.tryRecv()).toBeUndefined();
  });

  it('delivers what the kernel queued when driven in-process, after flush()', async () => {
    const listener = await connect();
    await listener.joinGroup(group);
    const local = daemon.kernel.socket({ protocol: GENERIC });
    local.sendSync(poke(familyId, 3));
    daemon.flush();
    const event = await recvWithin(listener);
    expect(new DataView(event.buffer, event.byteOffset).getUint16(4, true)).toBe(familyId);
    local.closeSync();
  });

  it('answers an unprivileged NEW with EPERM, while GETFAMILY works', async () => {
    const s = await connect({ capNetAdmin: false });
    await s.send(poke(familyId, 1));
    expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'error', error: -Errno.EPERM, header: { seq: 1 } });
    await s.send(getFamily(2));
    expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'genl', attrs: { familyName: 'nlctrl' } });
  });

  it('reports an overrun as ENOBUFS, in order, and goes on', async () => {
    const s = await connect({ rcvbuf: 1 });
    // Two requests in one datagram: the second reply does not fit the receive buffer.
    const a = getFamily(1);
    const b = getFamily(2);
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    await s.send(both);
    expect((await rejection(s.recv(), NetlinkErrnoError)).errno).toBe(Errno.ENOBUFS);
    expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'genl', header: { seq: 1 } });
    expect(s.tryRecv()).toBeUndefined();
    await s.send(getFamily(3));
    expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'genl', header: { seq: 3 } });
  });

  it('rejects joining group 0 with EINVAL', async () => {
    const s = await connect();
    expect((await rejection(s.joinGroup(0), NetlinkErrnoError)).errno).toBe(Errno.EINVAL);
  });

  it('closes the kernel socket when the client closes; then everything is EBADF', async () => {
    const s = await connect();
    const port = s.portId;
    const waiting = rejection(s.recv(), NetlinkErrnoError);
    await s.close();
    expect((await waiting).errno).toBe(Errno.EBADF);
    expect((await rejection(s.recv(), NetlinkErrnoError)).errno).toBe(Errno.EBADF);
    expect((await rejection(s.send(getFamily(1)), NetlinkErrnoError)).errno).toBe(Errno.EBADF);
    await expect.poll(() => [...daemon.kernel.openSockets].some((k) => k.portId === port)).toBe(false);
    expect(daemon.connections).toBe(0);
  });

  it('makes pending and later calls fail with ECONNRESET / EPIPE when the daemon goes away', async () => {
    const s = await connect();
    await s.send(getFamily(1));
    const waiting = s.recv(); // gets the reply already queued
    const next = rejection(s.recv(), NetlinkErrnoError); // waits
    await daemon.close();
    expect(messages(await waiting)[0]).toMatchObject({ kind: 'genl' });
    const err = await next;
    expect(err.errno).toBe(Errno.ECONNRESET);
    expect(err.message).toContain('shutting down');
    expect((await rejection(s.recv(), NetlinkErrnoError)).errno).toBe(Errno.ECONNRESET);
    expect((await rejection(s.send(getFamily(2)), NetlinkErrnoError)).errno).toBe(Errno.EPIPE);
    expect(existsSync(path)).toBe(false);
  });
});

describe('startDaemon and the socket file', () => {
  it('refuses a path where a daemon is alive (EADDRINUSE), and leaves it working', async () => {
    const path = tempSocketPath();
    const d = await startDaemon({ socketPath: path });
    try {
      const err = await startDaemon({ socketPath: path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DaemonError);
      expect((err as DaemonError).code).toBe('EADDRINUSE');
      const s = await connectUnixNetlink(path, { protocol: GENERIC });
      await s.send(getFamily(1));
      expect(messages(await recvWithin(s))[0]).toMatchObject({ kind: 'genl' });
      await s.close();
    } finally {
      await d.close();
    }
  });

  it('replaces a stale socket file nobody listens on', async () => {
    const path = tempSocketPath();
    // A process that binds the path and exits without closing leaves the file behind.
    const r = spawnSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.exit(0))", path]);
    expect(r.status).toBe(0);
    expect(lstatSync(path).isSocket()).toBe(true);
    const d = await startDaemon({ socketPath: path });
    const s = await connectUnixNetlink(path, { protocol: GENERIC });
    expect(s.portId).toBeGreaterThan(0);
    await s.close();
    await d.close();
    expect(existsSync(path)).toBe(false);
  });

  it('does not remove a file that is not a socket', async () => {
    const path = tempSocketPath();
    writeFileSync(path, 'not a socket');
    await expect(startDaemon({ socketPath: path })).rejects.toThrow(/not a socket/);
    expect(existsSync(path)).toBe(true);
  });

  it('says "no kernel running" when nothing listens', async () => {
    const path = tempSocketPath();
    const err = await rejection(connectUnixNetlink(path, { protocol: GENERIC }), NetlinkErrnoError);
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain(`cannot connect to ${path}: no kernel running`);
  });
});

describe('fault injection over the daemon (FAULT frames)', () => {
  let daemon: Daemon;
  let path: string;
  beforeEach(async () => {
    path = tempSocketPath();
    daemon = await startDaemon({ socketPath: path, log: () => {} });
  });
  afterEach(async () => {
    await daemon.close();
  });

  it('set, show and clear from a control connection; the kernel fails the call and answers with its errno', async () => {
    const state = (await unixFaultRequest(path, { op: 'set', point: 'fail_netlink_create', attrs: { probability: 100, space: 1, times: 1 } })) as Array<
      Record<string, unknown>
    >;
    expect(state.find((p) => p.point === 'fail_netlink_create')).toMatchObject({ probability: 100, times: 1, space: 1, injected: 0 });
    // socket(AF_NETLINK) fails: the HELLO is answered ENOMEM, and no socket is left in the kernel.
    const before = [...daemon.kernel.openSockets].length;
    expect((await rejection(connectUnixNetlink(path, { protocol: GENERIC }), NetlinkErrnoError)).errno).toBe(Errno.ENOMEM);
    expect([...daemon.kernel.openSockets].length).toBe(before);
    const shown = (await unixFaultRequest(path, { op: 'show' })) as Array<Record<string, unknown>>;
    expect(shown.find((p) => p.point === 'fail_netlink_create')).toMatchObject({ times: 0, injected: 1 });
    const ok = await connectUnixNetlink(path, { protocol: GENERIC });
    await ok.close();
    await unixFaultRequest(path, { op: 'clear' });
    expect(daemon.kernel.faults.show().every((p) => p.probability === 0)).toBe(true);
  });

  it('a control connection clears fail_netlink_create even while every socket() fails', async () => {
    await unixFaultRequest(path, { op: 'set', point: 'fail_netlink_create', attrs: { probability: 100, times: -1 } });
    expect((await rejection(connectUnixNetlink(path, { protocol: GENERIC }), NetlinkErrnoError)).errno).toBe(Errno.ENOMEM);
    await unixFaultRequest(path, { op: 'clear', point: 'fail_netlink_create' });
    await (await connectUnixNetlink(path, { protocol: GENERIC })).close();
  });

  it('answers EINVAL for an unknown point or a value out of range, changing nothing', async () => {
    const before = daemon.kernel.faults.show();
    expect((await rejection(unixFaultRequest(path, { op: 'set', point: 'failnothing', attrs: { probability: 100 } }), NetlinkErrnoError)).errno).toBe(
      Errno.EINVAL,
    );
    expect((await rejection(unixFaultRequest(path, { op: 'set', point: 'failslab', attrs: { probability: 101 } }), NetlinkErrnoError)).errno).toBe(
      Errno.EINVAL,
    );
    expect((await rejection(unixFaultRequest(path, { op: 'clear', point: 'nope' }), NetlinkErrnoError)).errno).toBe(Errno.EINVAL);
    expect(daemon.kernel.faults.show()).toEqual(before);
  });

  it('a netlink connection may send FAULT too; a control connection may send nothing but FAULT and CLOSE', async () => {
    const s = await connectUnixNetlink(path, { protocol: GENERIC });
    await s.close();
    const answers = await new Promise<number[]>((resolve) => {
      const c = createConnection(path);
      const reader = new UnixFrameReader();
      const got: number[] = [];
      c.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        for (let f = reader.next(); f !== undefined; f = reader.next()) got.push(f.type === UNIX_FRAME.RESULT ? decodeUnixResult(f.payload).errno : -f.type);
      });
      c.on('close', () => resolve(got));
      c.write(encodeUnixFault({ op: 'show' }));
      c.write(encodeUnixFrame(UNIX_FRAME.TO_KERNEL, new Uint8Array(16)));
    });
    // The SHOW answered, then the TO_KERNEL ended the connection.
    expect(answers).toEqual([0]);
    for (let i = 0; i < 200 && daemon.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(daemon.connections).toBe(0);
  });
});

describe('the daemon under hostile clients', () => {
  let daemon: Daemon;
  let path: string;
  const logged: string[] = [];
  beforeEach(async () => {
    path = tempSocketPath();
    logged.length = 0;
    daemon = await startDaemon({ socketPath: path, log: (l) => logged.push(l) });
  });
  afterEach(async () => {
    await daemon.close();
  });

  /** A raw connection: write `chunks`, optionally end, and collect frame types until the daemon closes or `ms` pass. */
  function raw(chunks: Buffer[], opts: { end?: boolean; ms?: number } = {}): Promise<{ results: number[]; closed: boolean }> {
    return new Promise((resolve) => {
      const c = createConnection(path);
      const reader = new UnixFrameReader();
      const results: number[] = [];
      let done = false;
      const finish = (closed: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        c.destroy();
        resolve({ results, closed });
      };
      const timer = setTimeout(() => finish(false), opts.ms ?? 300);
      c.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        try {
          for (let f = reader.next(); f !== undefined; f = reader.next()) if (f.type === UNIX_FRAME.RESULT) results.push(decodeUnixResult(f.payload).errno);
        } catch {
          finish(true);
        }
      });
      c.on('error', () => {});
      c.on('close', () => finish(true));
      for (const b of chunks) c.write(b);
      if (opts.end) c.end();
    });
  }

  /** The daemon still serves: a new socket gets nlctrl's description. */
  async function stillServes(): Promise<void> {
    const s = await connectUnixNetlink(path, { protocol: GENERIC });
    try {
      await s.send(getFamily(1));
      const m = messages(await recvWithin(s));
      expect(m[0]?.kind).toBe('genl');
    } finally {
      await s.close();
    }
  }

  async function noConnectionsLeft(): Promise<void> {
    for (let i = 0; i < 300 && daemon.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(daemon.connections).toBe(0);
  }

  it('creates its socket as OVS does (mode 0770: owner and group)', () => {
    expect(lstatSync(path).mode & 0o777).toBe(0o770);
  });

  it('random bytes, before or after a HELLO, end that connection and nothing else', async () => {
    const hello = encodeUnixHello({ protocol: GENERIC, netns: '', capNetAdmin: true, portId: 0, rcvbuf: 0, extAck: true, capAck: false });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 4 }), async (withHello, chunks) => {
        await raw([...(withHello ? [hello] : []), ...chunks.map((c) => Buffer.from(c))], { end: true, ms: 200 });
        await noConnectionsLeft();
      }),
      { numRuns: 25 },
    );
    expect(logged.every((l) => !l.includes('internal error'))).toBe(true);
    await stillServes();
  }, 60_000);

  it('a frame longer than MAX_CLIENT_FRAME ends the connection before it is buffered', async () => {
    const head = Buffer.alloc(5);
    head.writeUInt32LE(MAX_CLIENT_FRAME + 1, 0);
    head[4] = UNIX_FRAME.TO_KERNEL;
    const r = await raw([head], { ms: 2000 });
    expect(r.closed).toBe(true);
    expect(logged.some((l) => l.includes('frame length'))).toBe(true);
    await stillServes();
  });

  it('a truncated frame and a half-closed connection are cleaned up', async () => {
    const hello = encodeUnixHello({ protocol: GENERIC, netns: '', capNetAdmin: true, portId: 0, rcvbuf: 0, extAck: true, capAck: false });
    const frame = encodeUnixFrame(UNIX_FRAME.TO_KERNEL, getFamily(3));
    const r = await raw([hello, frame.subarray(0, frame.length - 5)], { end: true, ms: 2000 });
    // The HELLO may be answered (unless the client was gone first); the half frame never is.
    expect(r.results.length).toBeLessThanOrEqual(1);
    await noConnectionsLeft();
    expect([...daemon.kernel.openSockets]).toHaveLength(0);
  });

  it('a datagram longer than the socket send buffer is EMSGSIZE (netlink_sendmsg), and the socket goes on', async () => {
    const s = await connectUnixNetlink(path, { protocol: GENERIC });
    const big = new Uint8Array(212992);
    new DataView(big.buffer).setUint32(0, big.length, true);
    expect((await rejection(s.send(big), NetlinkErrnoError)).errno).toBe(Errno.EMSGSIZE);
    await s.send(getFamily(2));
    expect(messages(await recvWithin(s))[0]?.kind).toBe('genl');
    await s.close();
  });

  it('a client that never reads costs the daemon a bounded buffer, and the others are still served', async () => {
    const hello = encodeUnixHello({ protocol: GENERIC, netns: '', capNetAdmin: true, portId: 0, rcvbuf: 0, extAck: true, capAck: false });
    const c = createConnection(path);
    c.on('error', () => {});
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.pause(); // never reads
    c.write(hello);
    // First dumps (answers the kernel queues: they stop at MAX_UNSENT, then the socket's
    // receive buffer overruns), then 300,000 datagrams the kernel ignores (a RESULT each:
    // about 4 MB of answers if the daemon went on reading).
    const dump = encodeUnixFrame(UNIX_FRAME.TO_KERNEL, getFamily(9, 'nlctrl', NLM_F.REQUEST | NLM_F.DUMP));
    c.write(Buffer.concat(Array.from({ length: 300 }, () => dump)));
    const noop = encodeUnixFrame(UNIX_FRAME.TO_KERNEL, Uint8Array.from([16, 0, 0, 0, NLMSG.NOOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const burst = Buffer.concat(Array.from({ length: 10_000 }, () => noop));
    for (let i = 0; i < 30; i++) c.write(burst);
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      peak = Math.max(peak, daemon.unsent);
    }
    // The limit, plus what one chunk of requests read before the pause can add.
    expect(peak).toBeLessThan(MAX_UNSENT + 512 * 1024);
    await stillServes();
    c.destroy();
    await noConnectionsLeft();
  }, 30_000);
});
