/**
 * The unix transport's wire format and its client, against scripted servers.
 * (The client against the real daemon and kernel model is tested in
 * @ovs/kernel-datapath's daemon.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Errno } from '../errno.js';
import { NetlinkErrnoError } from '../errors.js';
import { rejection } from '../testing/index.js';
import {
  UNIX_FRAME,
  UNIX_MAX_FRAME_LENGTH,
  UnixFrameError,
  UnixFrameReader,
  type UnixFrame,
  UnixNetlinkConnectionError,
  connectUnixNetlink,
  decodeUnixFault,
  decodeUnixHello,
  decodeUnixKtrace,
  decodeUnixResult,
  decodeUnixU32,
  encodeUnixFault,
  encodeUnixFrame,
  encodeUnixHello,
  encodeUnixKtrace,
  encodeUnixResult,
  encodeUnixU32Frame,
} from './unix.js';

const dir = mkdtempSync(join(tmpdir(), 'ovs-unix-transport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

interface Fake {
  path: string;
  server: Server;
  conns: Socket[];
  /** Frames each connection sent, in order. */
  frames: UnixFrame[][];
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A server that hands each frame to `script` (with the connection and the frame's index on it). */
async function fakeServer(script: (f: UnixFrame, conn: Socket, i: number) => void): Promise<Fake> {
  const path = join(dir, `s${n++}.sock`);
  const fake: Fake = { path, server: createServer(), conns: [], frames: [] };
  fake.server.on('connection', (conn) => {
    fake.conns.push(conn);
    const mine: UnixFrame[] = [];
    fake.frames.push(mine);
    const reader = new UnixFrameReader();
    conn.on('error', () => {});
    conn.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f !== undefined; f = reader.next()) {
        mine.push({ type: f.type, payload: Buffer.from(f.payload) });
        script(f, conn, mine.length - 1);
      }
    });
  });
  servers.push(fake.server);
  await new Promise<void>((r) => fake.server.listen(path, () => r()));
  return fake;
}

/** A server that welcomes with port `port` and answers every request with success. */
function welcoming(port: number, onRequest?: (f: UnixFrame, conn: Socket) => void) {
  return (f: UnixFrame, conn: Socket, i: number): void => {
    if (i === 0) {
      conn.write(encodeUnixResult(0, port));
      return;
    }
    if (f.type === UNIX_FRAME.CLOSE) {
      conn.end();
      return;
    }
    onRequest?.(f, conn);
    conn.write(encodeUnixResult(0));
  };
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('frames', () => {
  it('splits a stream into frames however it is chunked', () => {
    const stream = Buffer.concat([
      encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, bytes(1, 2, 3)),
      encodeUnixU32Frame(UNIX_FRAME.RECV_ERROR, Errno.ENOBUFS),
      encodeUnixFrame(UNIX_FRAME.CLOSE),
      encodeUnixResult(Errno.EPERM, 5, 'why'),
    ]);
    for (const step of [1, 2, 3, 5, 7, stream.length]) {
      const r = new UnixFrameReader();
      const got: UnixFrame[] = [];
      for (let off = 0; off < stream.length; off += step) {
        r.push(stream.subarray(off, off + step));
        for (let f = r.next(); f !== undefined; f = r.next()) got.push(f);
      }
      expect(got.map((f) => f.type)).toEqual([UNIX_FRAME.FROM_KERNEL, UNIX_FRAME.RECV_ERROR, UNIX_FRAME.CLOSE, UNIX_FRAME.RESULT]);
      expect([...got[0]!.payload]).toEqual([1, 2, 3]);
      expect(decodeUnixU32(got[1]!)).toBe(Errno.ENOBUFS);
      expect(got[2]!.payload.length).toBe(0);
      expect(decodeUnixResult(got[3]!.payload)).toEqual({ errno: Errno.EPERM, value: 5, message: 'why' });
      expect(r.buffered).toBe(0);
    }
  });

  it('lays a frame out as length (type + payload), type, payload', () => {
    expect([...encodeUnixFrame(UNIX_FRAME.TO_KERNEL, bytes(0xaa, 0xbb))]).toEqual([3, 0, 0, 0, 3, 0xaa, 0xbb]);
    expect([...encodeUnixU32Frame(UNIX_FRAME.JOIN, 0x01020304)]).toEqual([5, 0, 0, 0, 5, 4, 3, 2, 1]);
  });

  it('rejects a length of 0 or beyond the limit', () => {
    const r = new UnixFrameReader();
    r.push(Buffer.from([0, 0, 0, 0, 1]));
    expect(() => r.next()).toThrow(UnixFrameError);
    const big = Buffer.alloc(5);
    big.writeUInt32LE(UNIX_MAX_FRAME_LENGTH + 1, 0);
    const r2 = new UnixFrameReader();
    r2.push(big);
    expect(() => r2.next()).toThrow(/frame length/);
  });

  it('round-trips a HELLO', () => {
    const frame = encodeUnixHello({ protocol: 16, netns: 'blue', capNetAdmin: false, portId: 99, rcvbuf: 4096, extAck: true, capAck: true });
    const r = new UnixFrameReader();
    r.push(frame);
    const f = r.next()!;
    expect(f.type).toBe(UNIX_FRAME.HELLO);
    expect(decodeUnixHello(f.payload)).toEqual({
      version: 1,
      protocol: 16,
      netns: 'blue',
      capNetAdmin: false,
      portId: 99,
      rcvbuf: 4096,
      extAck: true,
      capAck: true,
    });
    // An empty namespace name means the initial one.
    const plain = encodeUnixHello({ protocol: 0, netns: '', capNetAdmin: true, portId: 0, rcvbuf: 0, extAck: false, capAck: false });
    expect(decodeUnixHello(plain.subarray(5))).toMatchObject({ netns: 'init', capNetAdmin: true, extAck: false });
  });
});

describe('connectUnixNetlink', () => {
  it('sends a HELLO with the options and takes the port id from the answer', async () => {
    const fake = await fakeServer(welcoming(1234));
    const s = await connectUnixNetlink(fake.path, { protocol: 16, netns: 'red', capNetAdmin: false, rcvbuf: 1000 });
    expect(s.portId).toBe(1234);
    expect(s.protocol).toBe(16);
    const hello = fake.frames[0]![0]!;
    expect(hello.type).toBe(UNIX_FRAME.HELLO);
    expect(decodeUnixHello(hello.payload)).toEqual({
      version: 1,
      protocol: 16,
      netns: 'red',
      capNetAdmin: false,
      portId: 0,
      rcvbuf: 1000,
      extAck: true,
      capAck: false,
    });
    await s.close();
  });

  it('rejects with the errno the daemon answers the HELLO with', async () => {
    const fake = await fakeServer((_f, conn) => conn.end(encodeUnixResult(Errno.EPROTONOSUPPORT)));
    const err = await rejection(connectUnixNetlink(fake.path, { protocol: 99 }), NetlinkErrnoError);
    expect(err.errno).toBe(Errno.EPROTONOSUPPORT);
    expect(err).not.toBeInstanceOf(UnixNetlinkConnectionError);
  });

  it('says "no kernel running" when nothing listens at the path', async () => {
    const path = join(dir, 'nobody.sock');
    const err = await rejection(connectUnixNetlink(path, { protocol: 16 }), NetlinkErrnoError);
    expect(err).toBeInstanceOf(UnixNetlinkConnectionError);
    expect(err.code).toBe('ENOENT');
    expect((err as UnixNetlinkConnectionError).reason).toBe(`cannot connect to ${path}: no kernel running`);
  });

  it('gives up on a server that does not answer the HELLO', async () => {
    const fake = await fakeServer(() => {});
    const err = await rejection(connectUnixNetlink(fake.path, { protocol: 16, handshakeTimeoutMs: 50 }), NetlinkErrnoError);
    expect(err.code).toBe('ETIMEDOUT');
  });
});

describe('UnixNetlinkSocket', () => {
  it('resolves send() on RESULT, with the datagrams sent before it already received', async () => {
    const fake = await fakeServer(
      welcoming(1, (f, conn) => {
        if (f.type === UNIX_FRAME.TO_KERNEL) conn.write(encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, Buffer.from(f.payload).reverse()));
      }),
    );
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    await s.send(bytes(1, 2, 3));
    expect(fake.frames[0]![1]).toMatchObject({ type: UNIX_FRAME.TO_KERNEL });
    const d = s.tryRecv();
    expect(d).toBeInstanceOf(Uint8Array);
    expect([...d!]).toEqual([3, 2, 1]);
    expect(s.tryRecv()).toBeUndefined();
    await s.close();
  });

  it('returns datagrams and receive errors in order', async () => {
    let conn: Socket | undefined;
    const fake = await fakeServer((_f, c, i) => {
      conn = c;
      if (i === 0) c.write(encodeUnixResult(0, 7));
    });
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    const first = s.recv(); // waiting before anything arrives
    conn!.write(
      Buffer.concat([
        encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, bytes(1)),
        encodeUnixU32Frame(UNIX_FRAME.RECV_ERROR, Errno.ENOBUFS),
        encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, bytes(2)),
      ]),
    );
    expect([...(await first)]).toEqual([1]);
    const err = await rejection(s.recv(), NetlinkErrnoError);
    expect(err.errno).toBe(Errno.ENOBUFS);
    expect([...(await s.recv())]).toEqual([2]);
    await s.close();
  });

  it('sends JOIN and LEAVE with the group, and rejects with the errno answered', async () => {
    const fake = await fakeServer((f, conn, i) => {
      if (i === 0) conn.write(encodeUnixResult(0, 7));
      else if (f.type === UNIX_FRAME.JOIN && decodeUnixU32(f) === 0) conn.write(encodeUnixResult(Errno.EINVAL));
      else if (f.type !== UNIX_FRAME.CLOSE) conn.write(encodeUnixResult(0));
      else conn.end();
    });
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    await s.joinGroup(9);
    await s.leaveGroup(9);
    expect((await rejection(s.joinGroup(0), NetlinkErrnoError)).errno).toBe(Errno.EINVAL);
    expect(fake.frames[0]!.slice(1).map((f) => [f.type, decodeUnixU32(f)])).toEqual([
      [UNIX_FRAME.JOIN, 9],
      [UNIX_FRAME.LEAVE, 9],
      [UNIX_FRAME.JOIN, 0],
    ]);
    await s.close();
  });

  it('sends CLOSE on close(); then everything is EBADF', async () => {
    const fake = await fakeServer(welcoming(1));
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    const waiting = rejection(s.recv(), NetlinkErrnoError);
    await s.close();
    expect(fake.frames[0]!.at(-1)!.type).toBe(UNIX_FRAME.CLOSE);
    expect((await waiting).errno).toBe(Errno.EBADF);
    expect((await rejection(s.recv(), NetlinkErrnoError)).errno).toBe(Errno.EBADF);
    expect((await rejection(s.send(bytes(1)), NetlinkErrnoError)).errno).toBe(Errno.EBADF);
    expect(() => s.tryRecv()).toThrow(NetlinkErrnoError);
    await s.close(); // twice is fine
  });

  it('when the daemon goes away: what arrived is still read, then ECONNRESET, and send() gets EPIPE', async () => {
    const fake = await fakeServer((_f, conn, i) => {
      if (i === 0) conn.write(encodeUnixResult(0, 7));
    });
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    const unanswered = rejection(s.send(bytes(1)), NetlinkErrnoError);
    await new Promise((r) => setTimeout(r, 20));
    fake.conns[0]!.end(encodeUnixFrame(UNIX_FRAME.FROM_KERNEL, bytes(42)));
    const lost = await unanswered;
    expect(lost).toBeInstanceOf(UnixNetlinkConnectionError);
    expect(lost.errno).toBe(Errno.ECONNRESET);
    expect(lost.message).toContain(`lost the connection to the ovs-kernel daemon at ${fake.path}`);
    expect([...(await s.recv())]).toEqual([42]);
    expect((await rejection(s.recv(), NetlinkErrnoError)).errno).toBe(Errno.ECONNRESET);
    expect(() => s.tryRecv()).toThrow(/ECONNRESET/);
    expect((await rejection(s.send(bytes(2)), NetlinkErrnoError)).errno).toBe(Errno.EPIPE);
    await s.close();
  });

  it("reports the daemon's CLOSE reason", async () => {
    const fake = await fakeServer((_f, conn, i) => {
      if (i === 0) conn.write(encodeUnixResult(0, 7));
    });
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    const waiting = rejection(s.recv(), NetlinkErrnoError);
    fake.conns[0]!.end(encodeUnixFrame(UNIX_FRAME.CLOSE, Buffer.from('the kernel is shutting down')));
    const err = await waiting;
    expect(err.errno).toBe(Errno.ECONNRESET);
    expect(err.message).toContain('closed the connection: the kernel is shutting down');
  });

  it('drops a daemon that breaks the protocol (EPROTO)', async () => {
    const fake = await fakeServer((_f, conn, i) => {
      if (i === 0) conn.write(Buffer.concat([encodeUnixResult(0, 7), encodeUnixFrame(200)]));
    });
    const s = await connectUnixNetlink(fake.path, { protocol: 16 });
    const err = await rejection(s.recv(), NetlinkErrnoError);
    expect(err.errno).toBe(Errno.EPROTO);
    expect(err.message).toContain('unknown frame type 200');
  });
});

describe('KTRACE frames', () => {
  it('round-trip kernel trace events', () => {
    const events = [
      { depth: 0, layer: 'kernel', fn: 'ovs_vport_cmd_new' },
      { depth: 1, layer: 'kernel', fn: 'new_vport', note: 'p1', ret: '-EEXIST' },
    ];
    const frame = encodeUnixKtrace(events);
    expect(frame.readUInt8(4)).toBe(UNIX_FRAME.KTRACE);
    expect(decodeUnixKtrace(frame.subarray(5))).toEqual(events);
  });

  it('anything else in a KTRACE is a UnixFrameError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
          fc.json().map((j) => Buffer.from(j, 'utf8')),
        ),
        (payload) => {
          try {
            const events = decodeUnixKtrace(payload);
            // Whatever passed is well formed.
            for (const e of events) expect(typeof e.fn).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(UnixFrameError);
          }
        },
      ),
    );
    for (const bad of [
      '{}',
      '[1]',
      '[{"depth":-1,"layer":"k","fn":"f"}]',
      '[{"depth":0,"layer":"k","fn":3}]',
      '[{"depth":0,"layer":"k","fn":"f","note":{}}]',
    ]) {
      expect(() => decodeUnixKtrace(Buffer.from(bad))).toThrow(UnixFrameError);
    }
  });
});

describe('FAULT frames', () => {
  const attrsArb = fc.record(
    {
      probability: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      interval: fc.nat(),
      times: fc.integer({ min: -1, max: 1000 }),
      space: fc.nat(),
      verbose: fc.nat(2),
    },
    { requiredKeys: [] },
  );
  const request = fc.oneof(
    fc.constant({ op: 'show' as const }),
    fc
      .option(fc.string({ minLength: 1, maxLength: 30 }), { nil: undefined })
      .map((point) => (point === undefined ? { op: 'clear' as const } : { op: 'clear' as const, point })),
    fc.record({ op: fc.constant('set' as const), point: fc.string({ maxLength: 30 }), attrs: attrsArb }),
  );

  it('round-trip every request: show, clear (one point or all), set with any subset of the values', () => {
    fc.assert(
      fc.property(request, (f) => {
        const frame = encodeUnixFault(f);
        const r = new UnixFrameReader();
        r.push(frame);
        const got = r.next()!;
        expect(got.type).toBe(UNIX_FRAME.FAULT);
        expect(decodeUnixFault(got.payload)).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it('lays SET out as op, mask, reserved, five i32, name', () => {
    const p = encodeUnixFault({ op: 'set', point: 'failslab', attrs: { interval: 3, times: -1 } }).subarray(5);
    expect([...p.subarray(0, 4)]).toEqual([1, 0b110, 0, 0]);
    expect(p.readInt32LE(8)).toBe(3);
    expect(p.readInt32LE(12)).toBe(-1);
    expect(p.toString('utf8', 24)).toBe('failslab');
  });

  it('anything malformed is a UnixFrameError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        try {
          const f = decodeUnixFault(Buffer.from(b));
          expect(['show', 'set', 'clear']).toContain(f.op);
        } catch (err) {
          expect(err).toBeInstanceOf(UnixFrameError);
        }
      }),
      { numRuns: 500 },
    );
    for (const bad of [[], [0, 0, 0], [3, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [2, 1, 0, 0], [0, 0, 0, 0, 65]]) {
      expect(() => decodeUnixFault(Buffer.from(bad))).toThrow(UnixFrameError);
    }
  });
});
