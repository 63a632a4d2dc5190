/**
 * Live device state: ovs-vswitchd follows the devices it manages without
 * any other write to the database (bridge.c's run_status_update /
 * iface_refresh_netdev_status, netdev-linux's notifier), applies the
 * settings OVS applies (mtu_request, Interface mac, Bridge hwaddr) and
 * refreshes statistics on its timer. Expected values are real OVS 3.1's on
 * Linux 6.1, from the kernel lab (kernel-lab/live-state.sh, MODE=real):
 * the scenario's steps here are the same, on the kernel model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetlinkProtocol, type NetlinkSocket } from '@ovs/genl-codec';
import { Kernel, ipLinkAdd, ipLinkDel, ipLinkSet } from '@ovs/kernel-datapath';
import { Database, Idl, type IdlRow, OvsdbServer, ServedDatabase, type VswitchTables, vswitchDatabaseSchema } from '@ovs/ovsdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Vlog } from '@ovs/util';
import { Vswitchd } from './vswitchd.js';

type Txn = ReturnType<Idl<VswitchTables>['transaction']>;

let dir: string;
let kernel: Kernel;
let server: OvsdbServer;
let idl: Idl<VswitchTables>;
let vswitchd: Vswitchd;
let vlog: Vlog;
let ip: NetlinkSocket;
/** The switch's clock for its statistics timer. */
let clock = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vswitchd-live-'));
  kernel = new Kernel();
  ip = await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE });
  server = await OvsdbServer.start({ databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))], remotes: [`punix:${join(dir, 'db.sock')}`] });
  idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
  const init = idl.transaction();
  init.insert('Open_vSwitch', {});
  await init.commit();
  vlog = new Vlog({ now: () => new Date(0) });
  clock = 0;
  vswitchd = await Vswitchd.start({ db: `unix:${join(dir, 'db.sock')}`, socket: async (protocol) => kernel.socket({ protocol }), vlog, pollIntervalMs: 20 });
  vswitchd.bridges.now = () => clock;
});

afterEach(async () => {
  await vswitchd.stop(true);
  idl.close();
  await server.close();
  await ip.close();
  rmSync(dir, { recursive: true, force: true });
});

const ovsRow = () => idl.first('Open_vSwitch')!;
const row = <K extends 'Interface' | 'Bridge'>(table: K, name: string) => [...idl.rows(table)].find((r) => r.get('name') === name) as IdlRow<VswitchTables[K]>;

/** A change as ovs-vsctl makes it (next_cfg incremented), then wait for cur_cfg. */
async function configure(change: (txn: Txn) => void): Promise<void> {
  const txn = idl.transaction();
  change(txn);
  txn.increment(ovsRow(), 'next_cfg');
  const r = await txn.commit();
  if (r.status !== 'success') throw new Error(`transaction ${r.status}`);
  for (let i = 0; i < 400 && (ovsRow().get('cur_cfg') ?? 0) < r.increment!; i++) await idl.waitForChange();
  await vswitchd.settle();
}

function addPort(txn: Txn, br: string, name: string, iface: Partial<VswitchTables['Interface']> = {}): void {
  const i = txn.insert('Interface', { name, ...iface });
  const p = txn.insert('Port', { name, interfaces: [i.uuid] });
  txn.mutate(row('Bridge', br), 'ports', 'insert', [p.uuid]);
}

function addBr(txn: Txn, name: string): void {
  const i = txn.insert('Interface', { name, type: 'internal' });
  const p = txn.insert('Port', { name, interfaces: [i.uuid] });
  const b = txn.insert('Bridge', { name, ports: [p.uuid] });
  txn.mutate(ovsRow(), 'bridges', 'insert', [b.uuid]);
}

/** `ovs-vsctl wait-until`: the replica's row until it satisfies `ok` (no write of ours in between), bounded. */
async function waitUntil(what: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !what(); i++) await Promise.race([idl.waitForChange(), new Promise((r) => setTimeout(r, 50))]);
  expect(what()).toBe(true);
}

const COLS = ['ofport', 'error', 'admin_state', 'link_state', 'link_resets', 'mtu', 'status'] as const;
function state(name: string): Record<string, unknown> {
  const r = row('Interface', name);
  return Object.fromEntries(COLS.map((c) => [c, c === 'status' ? Object.fromEntries(r.get(c)) : r.get(c)]));
}

const mac = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const dev = (name: string) => kernel.initNet.byIfname(name);

/** vA (veth, peer vB), dum0 (dummy), i0 (internal) on br0, as the lab scenario makes them. */
async function labSwitch(): Promise<void> {
  await ipLinkAdd(ip, 'vA', 'veth', { peer: 'vB' });
  await ipLinkAdd(ip, 'dum0', 'dummy');
  await configure((txn) => addBr(txn, 'br0'));
  await configure((txn) => {
    addPort(txn, 'br0', 'vA');
    addPort(txn, 'br0', 'dum0');
    addPort(txn, 'br0', 'i0', { type: 'internal' });
  });
}

describe('Interface status follows the device', { timeout: 30_000 }, () => {
  it('after add-port: each device as it is (lab: admin and link down, MTU 1500, driver, MAC and ifindex of the device)', async () => {
    await labSwitch();
    for (const name of ['vA', 'dum0', 'i0', 'br0']) {
      const r = row('Interface', name);
      expect(r.get('mac_in_use')).toBe(mac(dev(name)!.mac));
      expect(r.get('ifindex')).toBe(dev(name)!.ifindex);
    }
    // Link speed and duplex (ethtool): a veth's 10 Gb/s full duplex; none for dummy and internal devices.
    const speed = (name: string) => [row('Interface', name).get('link_speed'), row('Interface', name).get('duplex')];
    expect([speed('vA'), speed('dum0'), speed('i0'), speed('br0')]).toEqual([
      [10_000_000_000, 'full'],
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect(state('vA')).toMatchObject({ error: null, admin_state: 'down', link_state: 'down', link_resets: 0, mtu: 1500, status: { driver_name: 'veth' } });
    expect(state('dum0')).toMatchObject({ admin_state: 'down', link_state: 'down', link_resets: 0, mtu: 1500, status: { driver_name: 'dummy' } });
    expect(state('i0')).toEqual({
      ofport: 1,
      error: null,
      admin_state: 'down',
      link_state: 'down',
      link_resets: 0,
      mtu: 1500,
      status: { driver_name: 'openvswitch' },
    });
    expect(state('br0')).toEqual({
      ofport: 65534,
      error: null,
      admin_state: 'down',
      link_state: 'down',
      link_resets: 0,
      mtu: 1500,
      status: { driver_name: 'openvswitch' },
    });
  });

  it('a veth peer coming up and going down: link_state and link_resets follow, wait-until link_state=up returns', async () => {
    await labSwitch();
    const before = ovsRow().get('cur_cfg');
    await ipLinkSet(ip, 'vA', { up: true });
    await ipLinkSet(ip, 'vB', { up: true });
    await waitUntil(() => row('Interface', 'vA').get('link_state') === 'up');
    expect(state('vA')).toMatchObject({ admin_state: 'up', link_state: 'up', link_resets: 1 });
    await ipLinkSet(ip, 'vB', { up: false });
    await waitUntil(() => row('Interface', 'vA').get('link_state') === 'down');
    expect(state('vA')).toMatchObject({ admin_state: 'up', link_state: 'down', link_resets: 2 });
    await ipLinkSet(ip, 'vB', { up: true });
    await waitUntil(() => row('Interface', 'vA').get('link_state') === 'up');
    expect(state('vA')).toMatchObject({ link_resets: 3 });
    // Nobody configured anything meanwhile.
    expect(ovsRow().get('next_cfg')).toBe(before);
  });

  it('ip link set mtu: the Interface mtu follows; the internal ports follow the least MTU of the others (lab: 9000 on vA leaves them at 1500, 1400 on dum0 brings them to 1400)', async () => {
    await labSwitch();
    await ipLinkSet(ip, 'vA', { mtu: 9000 });
    await waitUntil(() => row('Interface', 'vA').get('mtu') === 9000);
    expect([dev('br0')!.mtu, dev('i0')!.mtu]).toEqual([1500, 1500]);
    await ipLinkSet(ip, 'dum0', { mtu: 1400 });
    await waitUntil(() => row('Interface', 'br0').get('mtu') === 1400 && row('Interface', 'i0').get('mtu') === 1400);
    expect([dev('br0')!.mtu, dev('i0')!.mtu, row('Interface', 'dum0').get('mtu')]).toEqual([1400, 1400, 1400]);
    // mtu_request on vA: its MTU is the user's (2000), the minimum stays dum0's.
    await configure((txn) => txn.update(row('Interface', 'vA'), { mtu_request: 2000 }));
    await waitUntil(() => row('Interface', 'vA').get('mtu') === 2000);
    expect(dev('br0')!.mtu).toBe(1400);
    // An internal port with its own mtu_request is not overridden.
    await configure((txn) => txn.update(row('Interface', 'i0'), { mtu_request: 1600 }));
    await waitUntil(() => row('Interface', 'i0').get('mtu') === 1600);
    expect(dev('br0')!.mtu).toBe(1400);
  });

  it('a renamed device: the interface fails as OVS words it, ofport -1, and comes back (a new number) when renamed back', async () => {
    await labSwitch();
    const was = row('Interface', 'dum0').get('ofport');
    kernel.initNet.rename(dev('dum0')!, 'dumX');
    await waitUntil(() => row('Interface', 'dum0').get('ofport') === -1);
    await waitUntil(() => row('Interface', 'dum0').get('error') !== null);
    const r = row('Interface', 'dum0');
    expect(state('dum0')).toEqual({
      ofport: -1,
      error: 'could not open network device dum0 (No such device)',
      admin_state: null,
      link_state: null,
      link_resets: 0,
      mtu: null,
      status: {},
    });
    expect([r.get('ifindex'), r.get('mac_in_use')]).toEqual([null, null]);
    kernel.initNet.rename(dev('dumX')!, 'dum0');
    await waitUntil(() => (row('Interface', 'dum0').get('ofport') ?? -1) > 0);
    expect(row('Interface', 'dum0').get('ofport')).toBe(4);
    expect(state('dum0')).toMatchObject({ error: null, admin_state: 'down', link_state: 'down', mtu: 1500, status: { driver_name: 'dummy' } });
    expect(was).not.toBe(4);
  });

  it('a deleted device: error and ofport -1 (link_resets kept); created again, the port comes back with a new number and its mtu_request', async () => {
    await labSwitch();
    await ipLinkSet(ip, 'vA', { up: true });
    await ipLinkSet(ip, 'vB', { up: true });
    await waitUntil(() => row('Interface', 'vA').get('link_resets') === 1);
    await configure((txn) => txn.update(row('Interface', 'vA'), { mtu_request: 2000 }));
    expect(dev('vA')!.mtu).toBe(2000);
    await waitUntil(() => row('Interface', 'vA').get('mtu') === 2000);
    await ipLinkDel(ip, 'vA');
    await waitUntil(() => row('Interface', 'vA').get('error') !== null);
    expect(state('vA')).toEqual({
      ofport: -1,
      error: 'could not open network device vA (No such device)',
      admin_state: null,
      link_state: null,
      link_resets: 1,
      mtu: null,
      status: {},
    });
    expect(vlog.recent.some((l) => l.endsWith('bridge|WARN|could not open network device vA (No such device)'))).toBe(true);
    await ipLinkAdd(ip, 'vA', 'veth', { peer: 'vB' });
    await waitUntil(() => (row('Interface', 'vA').get('ofport') ?? -1) > 0);
    await waitUntil(() => row('Interface', 'vA').get('mtu') === 2000);
    expect(row('Interface', 'vA').get('ofport')).toBe(4);
    expect(dev('vA')!.mtu).toBe(2000);
    expect(state('vA')).toMatchObject({ error: null, admin_state: 'down', link_state: 'down', link_resets: 0 });
  });
});

describe('settings OVS applies', { timeout: 30_000 }, () => {
  it('Interface mac on an internal port, Bridge other_config:hwaddr (and the datapath ID from it)', async () => {
    await labSwitch();
    await configure((txn) => txn.update(row('Interface', 'i0'), { mac: '02:00:00:00:00:42' }));
    expect(mac(dev('i0')!.mac)).toBe('02:00:00:00:00:42');
    await waitUntil(() => row('Interface', 'i0').get('mac_in_use') === '02:00:00:00:00:42');
    await configure((txn) => txn.update(row('Bridge', 'br0'), { other_config: new Map([['hwaddr', '02:00:00:00:00:99']]) }));
    expect(mac(dev('br0')!.mac)).toBe('02:00:00:00:00:99');
    await waitUntil(() => row('Bridge', 'br0').get('datapath_id') === '0000020000000099');
  });

  it("the bridge MAC without hwaddr: from the Bridge row's UUID when no port has a universal MAC (lab: br0's MAC and datapath_id)", async () => {
    await labSwitch();
    const u = row('Bridge', 'br0').uuid.replace(/-/g, '');
    const b = [u.slice(6, 8), u.slice(4, 6), u.slice(2, 4), u.slice(0, 2), u.slice(14, 16), u.slice(12, 14)];
    b[0] = ((parseInt(b[0]!, 16) & 0xfe) | 2).toString(16).padStart(2, '0');
    expect(mac(dev('br0')!.mac)).toBe(b.join(':'));
    await waitUntil(() => row('Bridge', 'br0').get('datapath_id') === `0000${b.join('')}`);
    // The in-tree module of Linux 6.1 has no /sys/module/openvswitch/version.
    expect(row('Bridge', 'br0').get('datapath_version')).toBe('<unknown>');
  });

  it('Open_vSwitch iface_types and datapath_types as OVS 3.1 on Linux discovers them', async () => {
    await configure((txn) => addBr(txn, 'br0'));
    await waitUntil(() => ovsRow().get('datapath_types').length > 0);
    expect(ovsRow().get('datapath_types')).toEqual(['netdev', 'system']);
    expect(ovsRow().get('iface_types')).toEqual([
      'afxdp',
      'afxdp-nonpmd',
      'bareudp',
      'erspan',
      'geneve',
      'gre',
      'gtpu',
      'internal',
      'ip6erspan',
      'ip6gre',
      'lisp',
      'patch',
      'stt',
      'system',
      'tap',
      'vxlan',
    ]);
  });

  it("type=bogus: OVS's error text and its two log lines", async () => {
    await configure((txn) => addBr(txn, 'br0'));
    await configure((txn) => addPort(txn, 'br0', 'bg0', { type: 'bogus' }));
    expect([row('Interface', 'bg0').get('ofport'), row('Interface', 'bg0').get('error')]).toEqual([
      -1,
      'could not open network device bg0 (Address family not supported by protocol)',
    ]);
    const lines = vlog.recent.map((l) => l.split('|').slice(2).join('|'));
    expect(lines).toContain('netdev|WARN|could not create netdev bg0 of unknown type bogus');
    expect(lines).toContain('bridge|WARN|could not open network device bg0 (Address family not supported by protocol)');
  });
});

describe('patch ports (iface_refresh_ofproto_status)', { timeout: 30_000 }, () => {
  it('a peer that does not exist: no error after the reconfiguration, "No usable peer" after the next link change, cleared by the next reconfiguration', async () => {
    await labSwitch();
    await configure((txn) => addPort(txn, 'br0', 'pp0', { type: 'patch', options: new Map([['peer', 'nope']]) }));
    expect([row('Interface', 'pp0').get('ofport'), row('Interface', 'pp0').get('error')]).toEqual([4, null]);
    await ipLinkSet(ip, 'dum0', { up: true });
    await waitUntil(() => row('Interface', 'pp0').get('error') === "No usable peer 'nope' exists in 'system' datapath.");
    // bridge_reconfigure() clears every interface's error (a change that touches no device: no status update sets it again).
    await configure((txn) => addPort(txn, 'br0', 'bg0', { type: 'bogus' }));
    expect(row('Interface', 'pp0').get('error')).toBe(null);
  });
});

describe('statistics (run_stats_update)', { timeout: 30_000 }, () => {
  it("OVS's keys for a system device, refreshed every stats-update-interval (never under 5 s), not before", async () => {
    await labSwitch();
    // The ports came after the first refresh (at start-up): theirs are due at the next tick.
    expect(row('Interface', 'vA').get('statistics').size).toBe(0);
    clock = 5000;
    await waitUntil(() => row('Interface', 'vA').get('statistics').size > 0);
    expect([...row('Interface', 'vA').get('statistics').keys()].sort()).toEqual([
      'collisions',
      'rx_bytes',
      'rx_crc_err',
      'rx_dropped',
      'rx_errors',
      'rx_frame_err',
      'rx_missed_errors',
      'rx_multicast_packets',
      'rx_over_err',
      'rx_packets',
      'tx_bytes',
      'tx_dropped',
      'tx_errors',
      'tx_packets',
    ]);
    // Asked for 1 s: 5 s it is. Cleared by hand, the statistics stay cleared until the timer is due.
    await configure((txn) => txn.update(ovsRow(), { other_config: new Map([['stats-update-interval', '1000']]) }));
    const cleared = idl.transaction();
    cleared.update(row('Interface', 'vA'), { statistics: new Map() });
    await cleared.commit();
    const since = clock;
    clock = since + 4999;
    vswitchd.wake();
    await vswitchd.settle();
    await new Promise((r) => setTimeout(r, 100));
    await vswitchd.settle();
    expect(row('Interface', 'vA').get('statistics').size).toBe(0);
    clock = since + 5000;
    await waitUntil(() => row('Interface', 'vA').get('statistics').size === 14);
  });
});
