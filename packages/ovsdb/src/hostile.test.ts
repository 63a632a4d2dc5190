/**
 * Hostile peers on every socket this package serves — the database server and
 * the unixctl control socket (ovs-vswitchd's): nesting past lib/json.c's limit,
 * garbage, truncated and oversized messages, messages that are not JSON-RPC,
 * half-open clients. Each is dropped (with the log line the real ovsdb-server
 * writes for it, compared with the real one's log) or answered with the real
 * program's error, and the server goes on serving everyone else.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonSplitter, UnixctlServer, unixctlTransact } from '@ovs/util';
import { RawPeer, type TestServer, startTestServer, tempDir } from './testing/helpers.js';
import { ensureRealOvs, startRealServer } from './testing/real-ovs.js';

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
/** An echo request whose params nest `n` arrays deep inside the message object. */
const deepEcho = (n: number, id = 1) => `{"method":"echo","id":${id},"params":${deep(n)}}`;

/** Writes bytes, then collects what comes back until the peer closes or `ms` pass. */
function exchange(path: string, bytes: string | Buffer, ms = 1000): Promise<{ closed: boolean; data: string }> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const s: Socket = connect(path, () => s.write(bytes));
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve({ closed, data });
    };
    const t = setTimeout(() => finish(false), ms);
    s.on('data', (d) => (data += d));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** The jsonrpc/unixctl warnings of an OVS log, without timestamps. */
const ovsWarnings = (log: string) =>
  log
    .split('\n')
    .map((l) => /\|(?:jsonrpc|unixctl)\|WARN\|(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);

/** Inputs the real ovsdb-server drops the connection for, each on its own connection. */
const DROPPED = [deep(1001), `{"method":"echo","id":1,"params":[]}\n \n  ${deep(1001)}`, deepEcho(1000), '{"method":"echo","id":1,"params":{}}'];

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('database server', () => {
  it('takes JSON nested 1,000 deep, drops 1,001 with the real ovsdb-server log line, and keeps serving', async () => {
    const log: string[] = [];
    srv = await startTestServer({ memory: true, log: (m) => log.push(m) });
    const ok = await exchange(srv.socket, deepEcho(999));
    expect(ok.closed).toBe(false);
    expect(JSON.parse(ok.data)).toMatchObject({ id: 1, error: null });
    for (const bytes of DROPPED) expect(await exchange(srv.socket, bytes)).toEqual({ closed: true, data: expect.any(String) });
    // What ovsdb-server 3.1 logs for these (its jsonrpc module), connection by connection.
    expect(log).toEqual([
      'unix#1: error parsing stream: line 0, column 1000, byte 1000: input exceeds maximum nesting depth 1000',
      'unix#2: error parsing stream: line 2, column 1002, byte 1005: input exceeds maximum nesting depth 1000',
      'unix#3: error parsing stream: line 0, column 1032, byte 1032: input exceeds maximum nesting depth 1000',
      'unix#4: received bad JSON-RPC message: "params" must be JSON array',
    ]);
    // The one that killed ovs-vswitchd's control socket: 100,000 deep.
    expect((await exchange(srv.socket, deepEcho(100_000))).closed).toBe(true);
    const p = await RawPeer.open(srv.socket);
    expect((await p.call('echo', ['alive'])).result).toEqual(['alive']);
    p.close();
  }, 30_000);

  const real = ensureRealOvs();
  (real.ok ? it : it.skip)(
    'the real ovsdb-server drops the same inputs with the same log lines',
    async () => {
      const { dir, cleanup } = tempDir();
      const rs = await startRealServer(dir);
      try {
        expect((await exchange(rs.socket, deepEcho(999))).closed).toBe(false);
        for (const bytes of DROPPED) expect((await exchange(rs.socket, bytes)).closed).toBe(true);
      } finally {
        await rs.stop();
      }
      const warnings = ovsWarnings(readFileSync(join(dir, 'real.log'), 'utf8'));
      cleanup();
      expect(warnings).toEqual([
        'unix#1: error parsing stream: line 0, column 1000, byte 1000: input exceeds maximum nesting depth 1000',
        'unix#2: error parsing stream: line 2, column 1002, byte 1005: input exceeds maximum nesting depth 1000',
        'unix#3: error parsing stream: line 0, column 1032, byte 1032: input exceeds maximum nesting depth 1000',
        'unix#4: received bad JSON-RPC message: "params" must be JSON array',
      ]);
    },
    30_000,
  );

  it('half-open and truncating clients leave nothing behind', async () => {
    srv = await startTestServer({ memory: true });
    for (let i = 0; i < 20; i++) {
      const s = connect(srv.socket);
      await new Promise((r) => s.once('connect', r));
      s.end('{"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"QoS","row":{"type":"h'.slice(0, 20 + i * 3));
      await new Promise((r) => s.once('close', r).resume());
    }
    const p = await RawPeer.open(srv.socket);
    const r = await p.call('transact', ['Open_vSwitch', { op: 'select', table: 'QoS', where: [] }]);
    expect(r.result).toEqual([{ rows: [] }]);
    p.close();
    expect(srv.server.sessions.size).toBeLessThanOrEqual(1);
  }, 30_000);
});

describe('JsonSplitter', () => {
  it('refuses exactly what lib/json.c refuses: a 1,001st level, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1100 }), fc.array(fc.nat(2200), { maxLength: 4 }), (depth, cuts) => {
        const text = deep(depth);
        const bounds = [0, ...cuts.map((c) => c % (text.length + 1)).sort((a, b) => a - b), text.length];
        const sp = new JsonSplitter();
        const out: string[] = [];
        let error: string | undefined;
        try {
          for (let i = 1; i < bounds.length; i++) out.push(...sp.push(Buffer.from(text.slice(bounds[i - 1], bounds[i]))));
        } catch (e) {
          error = (e as Error).message;
        }
        if (depth <= 1000) expect(out).toEqual([text]);
        else expect(error).toBe('line 0, column 1000, byte 1000: input exceeds maximum nesting depth 1000');
      }),
      { numRuns: 200 },
    );
  });
});

describe('JsonSplitter framing', () => {
  it('returns each message whole, wherever the chunks are cut, whatever its strings hold (quotes, backslashes, braces, UTF-8)', () => {
    const obj = fc.dictionary(
      fc.string({ unit: 'binary' }),
      fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 })),
      {
        maxKeys: 4,
      },
    );
    fc.assert(
      fc.property(fc.array(obj, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (msgs, cuts) => {
        const bytes = Buffer.from(msgs.map((m) => JSON.stringify(m)).join('\n'));
        const bounds = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
        const sp = new JsonSplitter();
        const out: unknown[] = [];
        for (let i = 1; i < bounds.length; i++) out.push(...sp.push(bytes.subarray(bounds[i - 1], bounds[i])).map((t) => JSON.parse(t)));
        expect(out).toEqual(msgs);
      }),
      { numRuns: 500 },
    );
  });
});

describe('unixctl server', () => {
  let ctl: UnixctlServer | undefined;
  let cleanup = () => {};
  afterEach(async () => {
    await ctl?.close();
    ctl = undefined;
    cleanup();
  });

  async function startCtl(log: string[] = []): Promise<string> {
    const d = tempDir('unixctl-test-');
    cleanup = d.cleanup;
    ctl = new UnixctlServer((m) => log.push(m));
    ctl.register('version', '', 0, 0, () => 'ovs-vswitchd (Open vSwitch) 3.1.0\n');
    ctl.register('slow', 'MS', 1, 1, async ([ms]) => {
      await new Promise((r) => setTimeout(r, Number(ms)));
      return `slept ${ms}\n`;
    });
    ctl.register('fail', '', 0, 0, () => {
      throw new Error('it failed');
    });
    const path = join(d.dir, 'test.ctl');
    await ctl.listen(path);
    return path;
  }

  it('survives 100,000-deep JSON and keeps answering (the ovs-vswitchd crash)', async () => {
    const log: string[] = [];
    const path = await startCtl(log);
    expect((await exchange(path, `{"method":"version","id":1,"params":${deep(100_000)}}`)).closed).toBe(true);
    expect(log).toEqual(['unix#0: error parsing stream: line 0, column 1035, byte 1035: input exceeds maximum nesting depth 1000']);
    expect(await unixctlTransact(path, 'version', [])).toBe('ovs-vswitchd (Open vSwitch) 3.1.0\n');
  });

  it('answers as lib/unixctl.c: errors without "result" ending in a newline, one request at a time in order', async () => {
    const path = await startCtl();
    // Pipelined: the slow one is answered before the next is even read.
    const r = await exchange(
      path,
      '{"method":"slow","id":1,"params":["30"]}{"method":"version","id":2,"params":[]}{"method":"version","id":3,"params":[1]}' +
        '{"method":"slow","id":4,"params":[7]}{"method":"nope","id":5,"params":[]}{"method":"fail","id":6,"params":[]}',
    );
    const split = new JsonSplitter().push(Buffer.from(r.data)).map((t) => JSON.parse(t));
    expect(split).toEqual([
      { id: 1, result: 'slept 30\n', error: null },
      { id: 2, result: 'ovs-vswitchd (Open vSwitch) 3.1.0\n', error: null },
      { id: 3, error: '"version" command takes at most 0 arguments\n' },
      { id: 4, error: '"slow" command has non-string argument\n' },
      { id: 5, error: '"nope" is not a valid command (use "list-commands" to see a list of valid commands)\n' },
      { id: 6, error: 'it failed\n' },
    ]);
  });

  it('drops notifications, replies and malformed requests, as the real one does', async () => {
    const log: string[] = [];
    const path = await startCtl(log);
    expect((await exchange(path, '{"method":"version","id":null,"params":[]}')).closed).toBe(true);
    expect((await exchange(path, '{"method":"version","id":1,"params":{}}')).closed).toBe(true);
    expect((await exchange(path, '{"id":1,"result":"x","error":null}')).closed).toBe(true);
    expect(log).toEqual([
      'unix#0: received unexpected notification message',
      'unix#1: received bad JSON-RPC message: "params" must be JSON array',
      'unix#2: received unexpected reply message',
    ]);
  });

  it('fast-check: random, mutated and deeply nested input never stops it from answering', async () => {
    const path = await startCtl();
    const valid = '{"method":"version","id":7,"params":[]}';
    const inputs = fc.oneof(
      fc.tuple(fc.nat(valid.length - 1), fc.string({ maxLength: 4 }), fc.nat(3)).map(([at, s, cut]) => valid.slice(0, at) + s + valid.slice(at + cut)),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 990, max: 3000 }).map((n) => `{"method":"version","id":1,"params":${deep(n)}}`),
      fc.jsonValue().map((j) => JSON.stringify({ method: 'version', id: 1, params: [j] })),
    );
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(inputs, { minLength: 1, maxLength: 3 }), async (xs) => {
        const s = connect(path);
        s.on('error', () => {});
        await new Promise((r) => s.once('connect', r));
        for (const x of xs) s.write(x);
        s.end();
        await new Promise((r) => s.once('close', r).resume());
        expect(await unixctlTransact(path, 'version', [])).toBe('ovs-vswitchd (Open vSwitch) 3.1.0\n');
        answered++;
      }),
      { numRuns: 100 },
    );
    expect(answered).toBe(100);
  }, 60_000);
});

describe('socket permissions', () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  it('db.sock and control sockets: 0770 less the umask (lib/socket-util-unix.c bind_unix_socket)', async () => {
    const d = tempDir('perm-test-');
    const s = await startTestServer({ memory: true });
    const ctl = new UnixctlServer();
    try {
      await ctl.listen(join(d.dir, 'x.ctl'));
      // Nothing for "other", whatever the umask; the owner may connect.
      expect(mode(s.socket) & 0o007).toBe(0);
      expect(mode(join(d.dir, 'x.ctl')) & 0o007).toBe(0);
      expect(mode(s.socket) & 0o700).toBe(0o700);
      const real = ensureRealOvs();
      if (real.ok) {
        const rs = await startRealServer(d.dir);
        try {
          // Same umask, same process tree: the real ovsdb-server's db socket and control socket.
          expect(mode(s.socket)).toBe(mode(rs.socket));
          expect(mode(join(d.dir, 'x.ctl'))).toBe(mode(join(d.dir, 'real.ctl')));
        } finally {
          await rs.stop();
        }
      }
    } finally {
      await ctl.close();
      await s.close();
      d.cleanup();
    }
  });
});
