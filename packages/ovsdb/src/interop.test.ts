/**
 * Interop with Debian's real Open vSwitch 3.1 — the authority where RFC 7047
 * and ovsdb-server differ:
 *
 *  - differential: the same transactions (good and bad) and monitors against
 *    the real ovsdb-server and ours, replies compared whole (error tags,
 *    details, "syntax", update formats);
 *  - the real ovs-vsctl --no-wait and ovsdb-client against our server;
 *  - our client and IDL against the real ovsdb-server;
 *  - the file format both ways (ovsdb-tool and ovsdb-server read our files,
 *    we read theirs, _is_diff records included).
 *
 * The Debian packages are installed when missing; the tests skip (with the
 * reason printed) only when that is impossible.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OvsdbClient } from './client.js';
import { Idl } from './idl.js';
import type { Json } from './json.js';
import { DbFile } from './log.js';
import { RawPeer, type TestServer, startTestServer, tempDir } from './testing/helpers.js';
import { REAL_SCHEMA, type RealServer, ensureRealOvs, run, startRealServer, vsctl } from './testing/real-ovs.js';
import type { VswitchTables } from './vswitch-types.js';

const real = ensureRealOvs();
const suite = real.ok ? describe : describe.skip;

const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const OVS = U(1);
const BR0 = U(2);
const P1 = U(3);
const I1 = U(4);
const P2 = U(5);
const I2 = U(6);
const MIR = U(7);
const FIXED = new Set([OVS, BR0, P1, I1, P2, I2, MIR, U(10), U(11)]);

const masked = (j: Json) => JSON.stringify(j).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'U');

/** Replaces server-made UUIDs by their order of appearance; sorts object members. */
function normalize(j: Json): string {
  const seen = new Map<string, string>();
  const walk = (v: Json): Json => {
    if (typeof v === 'string') {
      if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v) && !FIXED.has(v)) {
        if (!seen.has(v)) seen.set(v, `<uuid${seen.size}>`);
        return seen.get(v)!;
      }
      return v.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (m) => {
        if (FIXED.has(m)) return m;
        if (!seen.has(m)) seen.set(m, `<uuid${seen.size}>`);
        return seen.get(m)!;
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o: Record<string, Json> = {};
      for (const k of Object.keys(v).sort()) {
        let x = v[k]!;
        // A select's rows are a set (RFC 7047); the real server lists them in hash order.
        if (k === 'rows' && Array.isArray(x)) x = [...x].sort((p, q) => (masked(p) < masked(q) ? -1 : masked(p) > masked(q) ? 1 : 0));
        o[walk(k) as string] = walk(x);
      }
      return o;
    }
    return v;
  };
  return JSON.stringify(walk(j), null, 1);
}

const DB = 'Open_vSwitch';
const where = (u: string): Json => [['_uuid', '==', ['uuid', u]]];

/** Transactions run in order on both servers; good ones build state the later ones use. */
const STEPS: { name: string; ops: Json[] }[] = [
  {
    name: 'initial config: named-uuids, explicit uuids',
    // (A named-uuid used before the insert that gives it an explicit "uuid" would keep its random UUID.)
    ops: [
      { op: 'insert', table: 'Interface', uuid: I1, 'uuid-name': 'i1', row: { name: 'p1', type: 'internal', options: ['map', [['k', 'v']]] } },
      { op: 'insert', table: 'Port', uuid: P1, 'uuid-name': 'p1', row: { name: 'p1', interfaces: ['named-uuid', 'i1'] } },
      { op: 'insert', table: 'Bridge', uuid: BR0, 'uuid-name': 'br', row: { name: 'br0', ports: ['set', [['named-uuid', 'p1']]] } },
      { op: 'insert', table: 'Open_vSwitch', uuid: OVS, row: { bridges: ['named-uuid', 'br'] } },
      { op: 'comment', comment: 'hello' },
    ],
  },
  {
    name: 'select all columns',
    ops: [{ op: 'select', table: 'Interface', where: [['name', '==', 'p1']], columns: ['name', 'type', 'options', 'ofport_request', '_uuid'] }],
  },
  {
    name: 'select with includes/excludes',
    ops: [
      {
        op: 'select',
        table: 'Bridge',
        where: [
          ['ports', 'includes', ['uuid', P1]],
          ['name', '!=', 'x'],
        ],
        columns: ['name'],
      },
    ],
  },
  {
    name: 'update and count',
    ops: [
      {
        op: 'update',
        table: 'Interface',
        where: where(I1),
        row: {
          ofport_request: 5,
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['b', '2'],
            ],
          ],
        },
      },
    ],
  },
  {
    name: 'mutate next_cfg += and map delete by key',
    ops: [
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
      {
        op: 'mutate',
        table: 'Interface',
        where: where(I1),
        mutations: [
          ['external_ids', 'delete', ['set', ['a']]],
          [
            'external_ids',
            'insert',
            [
              'map',
              [
                ['b', 'X'],
                ['c', '3'],
              ],
            ],
          ],
        ],
      },
      { op: 'select', table: 'Interface', where: where(I1), columns: ['external_ids'] },
      { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
    ],
  },
  { name: 'range constraint', ops: [{ op: 'update', table: 'Interface', where: where(I1), row: { ofport_request: 0 } }] },
  { name: 'enum constraint', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { fail_mode: 'sometimes' } }] },
  { name: 'unknown table', ops: [{ op: 'select', table: 'Nope', where: [] }] },
  { name: 'unknown column in row', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { nope: 1 } }] },
  { name: 'unknown column in where', ops: [{ op: 'select', table: 'Bridge', where: [['nope', '==', 1]] }] },
  { name: 'type error', ops: [{ op: 'update', table: 'Interface', where: where(I1), row: { ofport_request: 'five' } }] },
  { name: 'bad uuid', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { ports: ['uuid', 'not-a-uuid'] } }] },
  { name: 'too many elements', ops: [{ op: 'update', table: 'Interface', where: where(I1), row: { ofport_request: ['set', [1, 2]] } }] },
  { name: 'duplicate set element', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { flood_vlans: ['set', [1, 1]] } }] },
  { name: 'immutable column', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { name: 'br9' } }] },
  { name: 'immutable _uuid', ops: [{ op: 'mutate', table: 'Bridge', where: where(BR0), mutations: [['name', 'insert', 'x']] }] },
  { name: 'mutator type mismatch', ops: [{ op: 'mutate', table: 'Bridge', where: where(BR0), mutations: [['stp_enable', '+=', 1]] }] },
  { name: 'unknown mutator', ops: [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '^=', 1]] }] },
  { name: 'division by zero', ops: [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '/=', 0]] }] },
  { name: 'mutate result too big', ops: [{ op: 'mutate', table: 'Interface', where: where(I1), mutations: [['ofport_request', 'insert', ['set', [7]]]] }] },
  { name: '< on a string', ops: [{ op: 'select', table: 'Bridge', where: [['name', '<', 'x']] }] },
  { name: 'unknown function', ops: [{ op: 'select', table: 'Bridge', where: [['name', '~=', 'x']] }] },
  { name: 'unknown operation', ops: [{ op: 'frobnicate' }] },
  { name: 'op missing', ops: [{ table: 'Bridge' }] },
  { name: 'operation not an object', ops: [42] },
  // (With several extra members the real server names the first in its hash order: one is deterministic.)
  { name: 'extra member', ops: [{ op: 'select', table: 'Bridge', where: [], colour: 'red' }] },
  { name: 'missing where', ops: [{ op: 'delete', table: 'Bridge' }] },
  {
    name: 'duplicate uuid-name',
    ops: [
      { op: 'insert', table: 'Interface', 'uuid-name': 'x', row: { name: 'q1' } },
      { op: 'insert', table: 'Interface', 'uuid-name': 'x', row: { name: 'q2' } },
    ],
  },
  { name: 'duplicate uuid', ops: [{ op: 'insert', table: 'Bridge', uuid: BR0, row: { name: 'brX' } }] },
  {
    name: 'index uniqueness (existing row)',
    ops: [
      { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
    ],
  },
  {
    name: 'index uniqueness (within txn)',
    ops: [
      { op: 'insert', table: 'Bridge', uuid: U(10), 'uuid-name': 'a', row: { name: 'brA' } },
      { op: 'insert', table: 'Bridge', uuid: U(11), 'uuid-name': 'b', row: { name: 'brA' } },
      {
        op: 'mutate',
        table: 'Open_vSwitch',
        where: [],
        mutations: [
          [
            'bridges',
            'insert',
            [
              'set',
              [
                ['named-uuid', 'a'],
                ['named-uuid', 'b'],
              ],
            ],
          ],
        ],
      },
    ],
  },
  { name: 'maxRows', ops: [{ op: 'insert', table: 'Open_vSwitch', row: {} }] },
  { name: 'reference to nonexistent row', ops: [{ op: 'insert', table: 'Port', uuid: P2, row: { name: 'p2', interfaces: ['uuid', U(99)] } }] },
  { name: 'delete a referenced row', ops: [{ op: 'delete', table: 'Interface', where: where(I1) }] },
  {
    name: 'unreferenced non-root row is collected',
    ops: [
      { op: 'insert', table: 'Interface', uuid: I2, row: { name: 'orphan' } },
      { op: 'select', table: 'Interface', where: [], columns: ['name'] },
    ],
  },
  { name: 'after garbage collection', ops: [{ op: 'select', table: 'Interface', where: [], columns: ['name'] }] },
  { name: 'min 1 set left empty', ops: [{ op: 'update', table: 'Port', where: where(P1), row: { interfaces: ['set', []] } }] },
  {
    name: 'weak references: mirror on p1 and p2',
    ops: [
      { op: 'insert', table: 'Interface', uuid: I2, 'uuid-name': 'i2', row: { name: 'p2' } },
      { op: 'insert', table: 'Port', uuid: P2, 'uuid-name': 'p2', row: { name: 'p2', interfaces: ['named-uuid', 'i2'] } },
      {
        op: 'insert',
        table: 'Mirror',
        uuid: MIR,
        'uuid-name': 'm',
        row: {
          name: 'm0',
          select_src_port: [
            'set',
            [
              ['uuid', P1],
              ['named-uuid', 'p2'],
              ['uuid', U(98)],
            ],
          ],
          output_port: ['named-uuid', 'p2'],
        },
      },
      {
        op: 'update',
        table: 'Bridge',
        where: where(BR0),
        row: {
          ports: [
            'set',
            [
              ['uuid', P1],
              ['named-uuid', 'p2'],
            ],
          ],
          mirrors: ['named-uuid', 'm'],
        },
      },
    ],
  },
  { name: 'mirror as stored (nonexistent weak ref dropped)', ops: [{ op: 'select', table: 'Mirror', where: [], columns: ['select_src_port', 'output_port'] }] },
  {
    name: 'deleting p2 drops it from the mirror',
    ops: [
      { op: 'mutate', table: 'Bridge', where: where(BR0), mutations: [['ports', 'delete', ['uuid', P2]]] },
      { op: 'select', table: 'Mirror', where: [], columns: ['select_src_port', 'output_port'] },
      { op: 'select', table: 'Port', where: [], columns: ['name'] },
    ],
  },
  {
    name: 'after: mirror and ports',
    ops: [
      { op: 'select', table: 'Mirror', where: [], columns: ['select_src_port', 'output_port'] },
      { op: 'select', table: 'Port', where: [], columns: ['name'] },
      { op: 'select', table: 'Interface', where: [], columns: ['name'] },
    ],
  },
  { name: 'wait == satisfied', ops: [{ op: 'wait', table: 'Bridge', timeout: 0, where: where(BR0), columns: ['name'], until: '==', rows: [{ name: 'br0' }] }] },
  {
    name: 'wait == not satisfied',
    ops: [{ op: 'wait', table: 'Bridge', timeout: 0, where: where(BR0), columns: ['name'], until: '==', rows: [{ name: 'other' }] }],
  },
  { name: 'wait != satisfied', ops: [{ op: 'wait', table: 'Bridge', timeout: 0, where: [], columns: ['name'], until: '!=', rows: [] }] },
  { name: 'wait bad until', ops: [{ op: 'wait', table: 'Bridge', timeout: 0, where: [], columns: ['name'], until: '<', rows: [] }] },
  { name: 'abort after a change', ops: [{ op: 'update', table: 'Bridge', where: where(BR0), row: { stp_enable: true } }, { op: 'abort' }] },
  { name: 'assert an unheld lock', ops: [{ op: 'assert', lock: 'mylock' }] },
  {
    name: 'commit durable',
    ops: [
      { op: 'update', table: 'Bridge', where: where(BR0), row: { datapath_type: 'netdev' } },
      { op: 'commit', durable: true },
    ],
  },
  { name: 'nothing was half-applied', ops: [{ op: 'select', table: 'Bridge', where: [], columns: ['name', 'stp_enable', 'datapath_type', 'fail_mode'] }] },
  {
    name: 'delete with count',
    ops: [
      { op: 'delete', table: 'Mirror', where: [['name', '==', 'm0']] },
      { op: 'select', table: 'Bridge', where: where(BR0), columns: ['mirrors'] },
    ],
  },
];

suite('differential: real ovsdb-server vs ours', { timeout: 60_000 }, () => {
  let realSrv: RealServer;
  let ours: TestServer;
  let dir: { dir: string; cleanup: () => void };
  const peers: { real: RawPeer; ours: RawPeer }[] = [];

  beforeAll(async () => {
    dir = tempDir();
    realSrv = await startRealServer(dir.dir);
    ours = await startTestServer();
  });
  afterAll(async () => {
    for (const p of peers) {
      p.real.close();
      p.ours.close();
    }
    await realSrv?.stop();
    await ours?.close();
    dir?.cleanup();
  });

  it('gives the same results to every transaction and the same updates to every monitor kind', async () => {
    const r = await RawPeer.open(realSrv.socket);
    const o = await RawPeer.open(ours.socket);
    peers.push({ real: r, ours: o });
    const both = async (method: string, params: Json[]) => {
      const [a, b] = await Promise.all([r.call(method, params, 'x'), o.call(method, params, 'x')]);
      r.messages.length = 0;
      o.messages.length = 0;
      return [a, b] as const;
    };
    const m1 = await RawPeer.open(realSrv.socket);
    const m2 = await RawPeer.open(ours.socket);
    peers.push({ real: m1, ours: m2 });
    const monReq: Json = {
      Bridge: { columns: ['name', 'ports', 'datapath_type', 'mirrors'] },
      Port: { columns: ['name', 'interfaces'] },
      Interface: [{ columns: ['name', 'ofport_request'] }, { columns: ['external_ids'], select: { modify: false } }],
      Mirror: {},
    };
    const mv1 = await Promise.all([m1.call('monitor', [DB, 'v1', monReq], 1), m2.call('monitor', [DB, 'v1', monReq], 1)]);
    expect(normalize(mv1[1] as unknown as Json)).toBe(normalize(mv1[0] as unknown as Json));
    const monReq2: Json = { ...(monReq as object), Port: { columns: ['name', 'interfaces'], where: [['name', '!=', 'p2']] } };
    const mv2 = await Promise.all([m1.call('monitor_cond', [DB, 'v2', monReq2], 2), m2.call('monitor_cond', [DB, 'v2', monReq2], 2)]);
    expect(normalize(mv2[1] as unknown as Json)).toBe(normalize(mv2[0] as unknown as Json));

    let compared = 0;
    for (const step of STEPS) {
      const [a, b] = await both('transact', [DB, ...step.ops]);
      expect({ step: step.name, reply: normalize(b as unknown as Json) }).toEqual({ step: step.name, reply: normalize(a as unknown as Json) });
      compared++;
    }
    expect(compared).toBe(STEPS.length);
    // Monitor notifications, in order: same update/update2 contents.
    const notes = (msgs: Json[]) => msgs.filter((m) => (m as { method?: string }).method !== undefined);
    await Promise.all([m1.call('echo', ['sync'], 'e'), m2.call('echo', ['sync'], 'e')]);
    const a = notes(m1.messages);
    const b = notes(m2.messages);
    expect(a.length).toBeGreaterThan(10);
    expect(normalize(b)).toBe(normalize(a));
  });

  it('answers the same to JSON-RPC level mistakes', async () => {
    const r = await RawPeer.open(realSrv.socket);
    const o = await RawPeer.open(ours.socket);
    peers.push({ real: r, ours: o });
    const calls: [string, Json[]][] = [
      ['frobnicate', []],
      ['get_schema', ['Nope']],
      ['get_schema', []],
      ['transact', ['Nope', { op: 'select', table: 'Bridge', where: [] }]],
      ['monitor', [DB, 'm', { Nope: {} }]],
      ['monitor', [DB, 'm', 'not-an-object']],
      ['monitor', [DB, 'm', { Bridge: { columns: ['nope'] } }]],
      ['monitor_cond', [DB, 'm']],
      ['monitor_cancel', ['never-created']],
      ['lock', [1]],
      ['unlock', ['never']],
      ['echo', [1, 'two', { three: [3] }]],
      ['list_dbs', []],
    ];
    for (const [method, params] of calls) {
      const [a, b] = await Promise.all([r.call(method, params, 7), o.call(method, params, 7)]);
      r.messages.length = 0;
      o.messages.length = 0;
      let expected = normalize(a as unknown as Json);
      // The real server also serves its internal _Server database; ours serves only the database files.
      if (method === 'list_dbs') expected = normalize({ ...a, result: (a.result as string[]).filter((d) => d !== '_Server') } as unknown as Json);
      expect({ method, reply: normalize(b as unknown as Json) }).toEqual({ method, reply: expected });
    }
  });
});

suite('real ovs-vsctl and ovsdb-client against our server', { timeout: 60_000 }, () => {
  let ours: TestServer;
  beforeAll(async () => {
    ours = await startTestServer();
  });
  afterAll(async () => {
    await ours?.close();
  });

  it('ovs-vsctl --no-wait: init, add-br, add-port, set, list, show, del-port, errors', async () => {
    const d = ours.remote;
    expect((await vsctl(d, '--no-wait', 'init')).status).toBe(0);
    expect((await vsctl(d, '--no-wait', 'add-br', 'br0')).status).toBe(0);
    expect(await vsctl(d, '--no-wait', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal')).toMatchObject({ status: 0 });
    expect(await vsctl(d, '--no-wait', 'add-port', 'br0', 'p2')).toMatchObject({ status: 0 });
    expect(await vsctl(d, '--no-wait', 'set', 'Interface', 'p2', 'ofport_request=7', 'options:remote_ip=192.0.2.1')).toMatchObject({ status: 0 });
    expect((await vsctl(d, 'list-br')).stdout).toBe('br0\n');
    expect((await vsctl(d, 'list-ports', 'br0')).stdout).toBe('p1\np2\n');
    expect((await vsctl(d, 'get', 'Interface', 'p2', 'ofport_request')).stdout).toBe('7\n');
    expect((await vsctl(d, 'get', 'Interface', 'p2', 'options')).stdout).toBe('{remote_ip="192.0.2.1"}\n');
    expect((await vsctl(d, '--columns=name,type', 'list', 'Interface', 'p1')).stdout).toBe('name                : p1\ntype                : internal\n');
    const show = (await vsctl(d, 'show')).stdout;
    expect(show).toMatch(/^[0-9a-f-]{36}\n {4}Bridge br0\n/);
    expect(show).toContain('        Port p1\n            Interface p1\n                type: internal\n');
    expect(show).toContain('        Port p2\n            Interface p2\n');
    // Errors come from the server (schema checks) or from ovs-vsctl itself, with the oracle's texts.
    expect(await vsctl(d, '--no-wait', 'set', 'Interface', 'p1', 'ofport_request=0')).toMatchObject({
      status: 1,
      stderr: 'ovs-vsctl: constraint violation: 0 is not in the valid range 1 to 65279 (inclusive)\n',
    });
    expect(await vsctl(d, '--no-wait', 'add-br', 'br0')).toMatchObject({
      status: 1,
      stderr: 'ovs-vsctl: cannot create a bridge named br0 because a bridge named br0 already exists\n',
    });
    expect((await vsctl(d, '--no-wait', 'del-port', 'br0', 'p1')).status).toBe(0);
    expect((await vsctl(d, 'list-ports', 'br0')).stdout).toBe('p2\n');
    // The deleted port's Port and Interface rows were garbage collected.
    expect((await vsctl(d, '--bare', '--columns=name', 'list', 'Interface')).stdout.split('\n').filter(Boolean).sort()).toEqual(['br0', 'p2']);
    expect((await vsctl(d, '--no-wait', 'del-br', 'br0')).status).toBe(0);
    expect((await vsctl(d, 'list-br')).stdout).toBe('');
    expect((await vsctl(d, '--bare', '--columns=_uuid', 'list', 'Port')).stdout).toBe('');
  });

  it('ovsdb-client list-dbs, get-schema, transact, monitor', async () => {
    const d = ours.remote;
    expect((await run('ovsdb-client', ['list-dbs', d])).stdout).toBe('Open_vSwitch\n');
    const schema = JSON.parse((await run('ovsdb-client', ['get-schema', d])).stdout);
    expect(schema.version).toBe('8.3.1');
    expect(Object.keys(schema.tables).sort()).toEqual(Object.keys(JSON.parse(readFileSync(REAL_SCHEMA, 'utf8')).tables).sort());
    expect((await run('ovsdb-client', ['get-schema-version', d])).stdout).toBe('8.3.1\n');
    const t = await run('ovsdb-client', ['transact', d, JSON.stringify([DB, { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] }])]);
    expect(t).toMatchObject({ status: 0, stdout: '[{"rows":[{"next_cfg":0}]}]\n' });
    const mon = (await import('node:child_process')).spawn('ovsdb-client', ['monitor', d, DB, 'Bridge', 'name', '--format=csv']);
    let out = '';
    mon.stdout.on('data', (x) => (out += x));
    await new Promise((r) => setTimeout(r, 300));
    await vsctl(d, '--no-wait', 'add-br', 'brm');
    for (let i = 0; i < 100 && !out.includes('brm'); i++) await new Promise((r) => setTimeout(r, 20));
    mon.kill('SIGTERM');
    expect(out).toMatch(/row,action,name\n[0-9a-f-]{36},insert,brm\n/);
    const dump = await run('ovsdb-client', ['dump', d, DB, 'Bridge', 'name']);
    expect(dump.stdout).toContain('brm');
  });
});

suite('our client and IDL against the real ovsdb-server', { timeout: 60_000 }, () => {
  let realSrv: RealServer;
  let dir: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    dir = tempDir();
    realSrv = await startRealServer(dir.dir);
  });
  afterAll(async () => {
    await realSrv?.stop();
    dir?.cleanup();
  });

  it('transacts and monitors with the raw client', async () => {
    const c = await OvsdbClient.connect(realSrv.remote);
    const updates: Json[] = [];
    c.on('notification', (m: string, p: Json[]) => m === 'update' && updates.push(p[1]!));
    expect(await c.listDbs()).toEqual(['Open_vSwitch', '_Server']);
    expect(await c.request('monitor', [DB, null, { Open_vSwitch: { columns: ['next_cfg'] } }])).toEqual({});
    const [ins] = await c.transact(DB, { op: 'insert', table: 'Open_vSwitch', row: { next_cfg: 3 } });
    const uuid = (ins as { uuid: [string, string] }).uuid[1];
    await c.echo();
    expect(updates).toEqual([{ Open_vSwitch: { [uuid]: { new: { next_cfg: 3 } } } }]);
    c.close();
  });

  it('keeps an IDL replica current, commits row changes, verify and increment', async () => {
    const idl = await Idl.open<VswitchTables>({ remote: realSrv.remote, tables: { Open_vSwitch: true, Bridge: true, Port: true, Interface: true } });
    const ovs = idl.first('Open_vSwitch')!;
    const s0 = idl.seqno;
    const txn = idl.transaction();
    const iface = txn.insert('Interface', { name: 'br0', type: 'internal' });
    const port = txn.insert('Port', { name: 'br0', interfaces: [iface.uuid] });
    const br = txn.insert('Bridge', { name: 'br0', ports: [port.uuid] });
    txn.verify(ovs, ['bridges']);
    txn.update(ovs, { bridges: [...ovs.get('bridges'), br.uuid] });
    txn.increment(ovs, 'next_cfg');
    const res = await txn.commit();
    expect(res).toMatchObject({ status: 'success', increment: 4 });
    if (res.status !== 'success') throw new Error('unreachable');
    await idl.waitForChange(s0);
    const bridge = idl.get('Bridge', res.uuids.get(br.uuid)!)!;
    expect(bridge.get('name')).toBe('br0');
    expect(idl.get('Port', bridge.get('ports')[0]!)!.get('name')).toBe('br0');
    expect(ovs.get('next_cfg')).toBe(4);
    // Someone else changes the verified column: our stale transaction must be told to try again.
    const stale = idl.transaction();
    stale.verify(ovs, ['bridges']);
    stale.update(ovs, { bridges: [] });
    expect((await vsctl(realSrv.remote, '--no-wait', 'add-br', 'br1')).status).toBe(0);
    expect(await stale.commit()).toMatchObject({ status: 'try-again' });
    await new Promise((r) => setTimeout(r, 50));
    expect([...idl.rows('Bridge')].map((b) => b.get('name')).sort()).toEqual(['br0', 'br1']);
    idl.close();
  });
});

suite('the database file, both ways', { timeout: 60_000 }, () => {
  it('the real ovsdb-server and ovsdb-tool read a file we wrote; we read one the real server wrote', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // Ours writes.
      const ours = await startTestServer();
      await vsctl(ours.remote, '--no-wait', 'add-br', 'br0', '--', 'add-port', 'br0', 'p1', '--', 'set', 'Interface', 'p1', 'ofport_request=9');
      await vsctl(ours.remote, '--no-wait', 'set', 'Bridge', 'br0', 'external_ids:k=v');
      copyFileSync(ours.file!, join(dir, 'ours.db'));
      await ours.close();
      const q = execFileSync('ovsdb-tool', [
        'query',
        join(dir, 'ours.db'),
        JSON.stringify([DB, { op: 'select', table: 'Interface', where: [['name', '==', 'p1']], columns: ['ofport_request'] }]),
      ]).toString();
      expect(JSON.parse(q)).toEqual([{ rows: [{ ofport_request: 9 }] }]);
      const srv = await startRealServer(dir, join(dir, 'ours.db'));
      expect((await vsctl(srv.remote, 'get', 'Bridge', 'br0', 'external_ids')).stdout).toBe('{k=v}\n');
      // The real server writes (column diffs: _is_diff), then we read its file.
      await vsctl(srv.remote, '--no-wait', 'set', 'Bridge', 'br0', 'external_ids:k2=v2', '--', 'remove', 'Bridge', 'br0', 'external_ids', 'k');
      await vsctl(srv.remote, '--no-wait', 'add-port', 'br0', 'p2');
      await srv.stop();
      expect(readFileSync(join(dir, 'ours.db'), 'utf8')).toContain('"_is_diff":true');
      const f = DbFile.open(join(dir, 'ours.db'));
      const t = f.db.table('Bridge')!;
      const br0 = [...t.rows.values()].find((r) => r.fields.name!.keys[0] === 'br0')!;
      expect(br0.fields.external_ids).toEqual({ keys: ['k2'], values: ['v2'] });
      expect(br0.fields.ports!.keys.length).toBe(3);
      f.close();
    } finally {
      cleanup();
    }
  });
});
