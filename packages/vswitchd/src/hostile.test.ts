/**
 * A running switch under hostile input on every socket it listens on — the
 * kernel daemon's, the database server's and ovs-vswitchd's control socket:
 * random bytes, valid requests mutated (bits flipped, cut short, spliced),
 * JSON nested 100,000 deep (OVS's parser refuses past 1,000), frames longer
 * than any limit, connections left half-open, and a client that sends
 * without ever reading. Afterwards every daemon is still running and the
 * switch still does its job: a bridge and a port added through ovs-vsctl
 * reach the datapath, ovs-appctl and ovs-dpctl answer.
 *
 * The inputs come from fast-check with a fixed seed (FUZZ_SEED to try
 * another), so a failure can be replayed.
 */
import { type Socket, createConnection } from 'node:net';
import { NetlinkProtocol } from '@ovs/genl-codec';
import { UNIX_FRAME, encodeUnixFrame, encodeUnixHello } from '@ovs/genl-codec/unix';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Switch, isRunning, startSwitch, tool } from './testing/daemons.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);

/** Valid first messages for each socket, the material mutations start from. */
const jsonRpc = (o: object) => Buffer.from(JSON.stringify(o));
const SEEDS: Record<'db' | 'ctl' | 'kernel', Buffer[]> = {
  db: [
    jsonRpc({ method: 'list_dbs', params: [], id: 1 }),
    jsonRpc({ method: 'echo', params: ['x'], id: 2 }),
    jsonRpc({ method: 'get_schema', params: ['Open_vSwitch'], id: 3 }),
    jsonRpc({ method: 'transact', params: ['Open_vSwitch', { op: 'select', table: 'Bridge', where: [] }], id: 4 }),
    jsonRpc({ method: 'monitor_cond', params: ['Open_vSwitch', null, { Interface: [{ columns: ['name', 'ofport'] }] }], id: 5 }),
  ],
  ctl: [
    jsonRpc({ method: 'version', params: [], id: 0 }),
    jsonRpc({ method: 'dpif/show', params: [], id: 1 }),
    jsonRpc({ method: 'vlog/list', params: [], id: 2 }),
  ],
  kernel: [
    // HELLO for a generic netlink socket, then CTRL_CMD_GETFAMILY "ovs_datapath".
    Buffer.concat([
      encodeUnixHello({ protocol: NetlinkProtocol.NETLINK_GENERIC, portId: 0, rcvbuf: 0, netns: '', capNetAdmin: false, extAck: true, capAck: false }),
      encodeUnixFrame(UNIX_FRAME.TO_KERNEL, Buffer.from('280000001000010001000000b100000003010000110002006f76735f646174617061746800000000', 'hex')),
    ]),
    // HELLO for rtnetlink, then an RTM_GETLINK dump.
    Buffer.concat([
      encodeUnixHello({ protocol: NetlinkProtocol.NETLINK_ROUTE, portId: 0, rcvbuf: 0, netns: '', capNetAdmin: false, extAck: false, capAck: false }),
      encodeUnixFrame(UNIX_FRAME.TO_KERNEL, Buffer.concat([Buffer.from('20000000' + '1200' + '0103' + '01000000' + '00000000', 'hex'), Buffer.alloc(16)])),
    ]),
  ],
};

/** A seed changed by a few edits: flipped bytes, a cut, a splice of random bytes, a repeat. */
function mutated(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ kind: fc.constant('repeat' as const) }),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length ? ('at' in e ? e.at % b.length : 0) : 0;
      if (e.kind === 'flip' && b.length) b[at] = b[at]! ^ (1 << e.bit);
      else if (e.kind === 'cut') b = b.subarray(0, at);
      else if (e.kind === 'splice') b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
      else if (e.kind === 'repeat') b = Buffer.concat([b, b]);
    }
    return b;
  });
}

const inputs = (seeds: Buffer[], n: number): Buffer[] =>
  fc.sample(
    fc.oneof(
      mutated(seeds),
      fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
      fc.json().map((j) => Buffer.from(j)),
    ),
    { numRuns: n, seed: SEED },
  );

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `bytes` on a fresh connection, half-closes, and waits (at most `ms`) for the peer to close; the answer is thrown away. */
async function throwAt(path: string, bytes: Buffer, ms = 2000): Promise<void> {
  const s = await connect(path);
  s.on('error', () => {});
  s.resume();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => resolve(), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.end(bytes);
  });
  s.destroy();
}

describe('a running switch under hostile input on every socket', () => {
  let sw: Switch;
  const held: Socket[] = [];
  afterAll(async () => {
    for (const s of held) s.destroy();
    await sw?.stop();
  }, 60_000);

  it('keeps every daemon running and doing its job', async () => {
    sw = await startSwitch();
    const sockets = { db: sw.dbSocket, ctl: sw.ctl, kernel: sw.kernelSocket };

    for (const [name, path] of Object.entries(sockets) as Array<[keyof typeof sockets, string]>) {
      // Random and mutated streams, a connection each, a few at a time.
      const all = inputs(SEEDS[name], 150);
      for (let i = 0; i < all.length; i += 10) await Promise.all(all.slice(i, i + 10).map((b) => throwAt(path, b)));
      // Nesting far past any parser's limit, and a frame or message longer than any limit.
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      await throwAt(path, Buffer.from(deep));
      for (const method of ['echo', 'version', 'list_dbs']) await throwAt(path, Buffer.from(`{"method":"${method}","params":[${deep}],"id":1}`));
      await throwAt(path, Buffer.from(`{"method":"echo","params":[${'['.repeat(100_000)}`));
      await throwAt(path, Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, UNIX_FRAME.HELLO]), Buffer.alloc(1 << 20)]));
      await throwAt(path, Buffer.alloc(8 << 20, 'x'.charCodeAt(0)));
      // Half-open: a partial message, then silence, kept open while the switch is checked.
      for (let i = 0; i < 20; i++) {
        const s = await connect(path);
        s.on('error', () => {});
        s.write(SEEDS[name][i % SEEDS[name].length]!.subarray(0, 7));
        held.push(s);
      }
      // A client that asks and asks and never reads its answers (it is paused).
      const greedy = await connect(path);
      greedy.on('error', () => {});
      greedy.pause();
      for (let i = 0; i < 2000 && !greedy.destroyed; i++) greedy.write(SEEDS[name][0]!);
      held.push(greedy);
    }

    // Every daemon is still there...
    for (const pid of sw.pids()) expect(isRunning(pid), `pid ${pid}`).toBe(true);
    // ...and the switch still switches configuration through to the datapath.
    const add = await sw.vsctl(['add-br', 'br-after', '--', 'add-port', 'br-after', 'p-after', '--', 'set', 'Interface', 'p-after', 'type=internal']);
    expect(add).toMatchObject({ status: 0, stderr: '' });
    expect((await sw.vsctl(['get', 'Interface', 'p-after', 'ofport'])).stdout.trim()).toBe('1');
    expect(await sw.vports()).toEqual(expect.arrayContaining(['br-after', 'p-after']));
    expect(await tool('vswitchd', 'ovs-appctl', ['-t', sw.ctl, 'version'], sw.env)).toMatch(/^ovs-vswitchd /);
  }, 300_000);
});
