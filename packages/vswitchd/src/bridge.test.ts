/**
 * The bridge layer between a real OVSDB server (ours, in-process) and the
 * kernel model: configuration in, datapath and database status out, with
 * OVS's numbers, texts and logs (../shared/oracle).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpifNetlink } from '@ovs/dpif-netlink';
import { IFF } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { Database, Idl, type IdlRow, OvsdbServer, ServedDatabase, type VswitchTables, vswitchDatabaseSchema } from '@ovs/ovsdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TraceNode, parseTrace } from '@ovs/trace';
import { Vlog, unixctlTransact } from '@ovs/util';
import { Vswitchd } from './vswitchd.js';

/**
 * The rig: an OVSDB server (in-process, on a unix socket in a temporary
 * directory), the kernel model, and ovs-vswitchd between them, with a small
 * client that changes the configuration the way ovs-vsctl does.
 */
interface Rig {
  dir: string;
  kernel: Kernel;
  server: OvsdbServer;
  /** The configuring client (what ovs-vsctl would be). */
  idl: Idl<VswitchTables>;
  vswitchd: Vswitchd;
  vlog: Vlog;
  close(): Promise<void>;
}

async function startRig(opts: { kernel?: Kernel } = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitchd-test-'));
  const kernel = opts.kernel ?? new Kernel();
  const server = await OvsdbServer.start({
    databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))],
    remotes: [`punix:${join(dir, 'db.sock')}`],
  });
  const idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
  const init = idl.transaction();
  init.insert('Open_vSwitch', {});
  await init.commit();
  const vlog = new Vlog({ now: () => new Date(0) });
  const vswitchd = await Vswitchd.start({
    db: `unix:${join(dir, 'db.sock')}`,
    socket: async (protocol) => kernel.socket({ protocol }),
    unixctl: join(dir, 'vswitchd.ctl'),
    vlog,
    pollIntervalMs: 50,
  });
  return {
    dir,
    kernel,
    server,
    idl,
    vswitchd,
    vlog,
    async close() {
      await vswitchd.stop(true);
      idl.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ovsRow = (idl: Idl<VswitchTables>) => idl.first('Open_vSwitch')!;

/** Commit a change the way ovs-vsctl does (with next_cfg incremented), then wait until vswitchd reports cur_cfg. */
async function configure(rig: Rig, change: (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => void): Promise<void> {
  const txn = rig.idl.transaction();
  change(txn, rig.idl);
  txn.increment(ovsRow(rig.idl), 'next_cfg');
  const r = await txn.commit();
  if (r.status !== 'success') throw new Error(`transaction ${r.status}: ${'error' in r ? r.error?.message : ''}`);
  const want = r.increment!;
  for (let i = 0; i < 400 && (ovsRow(rig.idl).get('cur_cfg') ?? 0) < want; i++) await rig.idl.waitForChange();
  await rig.vswitchd.settle();
}

/** add-br NAME: Interface + Port + Bridge, added to Open_vSwitch.bridges. */
function addBr(name: string, type = '') {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const iface = txn.insert('Interface', { name, type: 'internal' });
    const port = txn.insert('Port', { name, interfaces: [iface.uuid] });
    const br = txn.insert('Bridge', { name, ports: [port.uuid], datapath_type: type });
    txn.mutate(ovsRow(idl), 'bridges', 'insert', [br.uuid]);
  };
}

function bridgeRow(idl: Idl<VswitchTables>, name: string): IdlRow<VswitchTables['Bridge']> {
  const row = [...idl.rows('Bridge')].find((r) => r.get('name') === name);
  if (!row) throw new Error(`no bridge ${name}`);
  return row;
}

/** add-port BR NAME [-- set Interface NAME type=T options:... ofport_request=N], with a mutate of Bridge.ports. */
function addPort(br: string, name: string, iface: Partial<VswitchTables['Interface']> = {}) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const i = txn.insert('Interface', { name, ...iface });
    const p = txn.insert('Port', { name, interfaces: [i.uuid] });
    txn.mutate(bridgeRow(idl, br), 'ports', 'insert', [p.uuid]);
  };
}

function delPort(br: string, name: string) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const port = [...idl.rows('Port')].find((r) => r.get('name') === name)!;
    txn.mutate(bridgeRow(idl, br), 'ports', 'delete', [port.uuid]);
  };
}

function delBr(name: string) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    txn.mutate(ovsRow(idl), 'bridges', 'delete', [bridgeRow(idl, name).uuid]);
  };
}

/** Interface name -> [ofport, error] as the database has them. */
function interfaces(idl: Idl<VswitchTables>): Record<string, [number | null, string | null]> {
  const out: Record<string, [number | null, string | null]> = {};
  for (const r of idl.rows('Interface')) out[r.get('name')] = [r.get('ofport'), r.get('error')];
  return out;
}

let rig: Rig;
beforeEach(async () => {
  rig = await startRig();
});
afterEach(async () => {
  await rig.close();
});

function kernelPorts(): Record<number, string> {
  const out: Record<number, string> = {};
  const dp = rig.kernel.ovs!.datapaths().find((d) => d.name === 'ovs-system');
  for (const v of dp?.buckets.flat() ?? []) out[v.portNo] = v.name;
  return out;
}

const bridgeLog = () => rig.vlog.recent.map((l) => l.split('|').slice(2).join('|')).filter((l) => l.startsWith('bridge|'));

describe('bridge_reconfigure', () => {
  it('add-br makes the datapath and the LOCAL port; add-port a system and an internal port; cur_cfg follows next_cfg', async () => {
    await configure(rig, addBr('br0'));
    expect(interfaces(rig.idl)).toEqual({ br0: [65534, null] });
    expect(kernelPorts()).toEqual({ 0: 'ovs-system', 1: 'br0' });
    const vethA = rig.kernel.initNet.addDevice({ name: 'vethA', kind: 'dummy' });
    vethA.flags |= IFF.UP;
    await configure(rig, addPort('br0', 'vethA'));
    await configure(rig, addPort('br0', 'int0', { type: 'internal' }));
    expect(interfaces(rig.idl)).toEqual({ br0: [65534, null], vethA: [1, null], int0: [2, null] });
    expect(kernelPorts()).toEqual({ 0: 'ovs-system', 1: 'br0', 2: 'vethA', 3: 'int0' });
    // As the oracle's log (../shared/oracle/results.md): the datapath ID is picked once the LOCAL port exists.
    expect(bridgeLog()).toEqual([
      'bridge|INFO|bridge br0: added interface br0 on port 65534',
      expect.stringMatching(/^bridge\|INFO\|bridge br0: using datapath ID 0000[0-9a-f]{12}$/),
      'bridge|INFO|bridge br0: added interface vethA on port 1',
      'bridge|INFO|bridge br0: added interface int0 on port 2',
    ]);
    const ovs = rig.idl.first('Open_vSwitch')!;
    expect(ovs.get('cur_cfg')).toBe(ovs.get('next_cfg'));
    // The device's state, written back.
    const vrow = [...rig.idl.rows('Interface')].find((r) => r.get('name') === 'vethA')!;
    expect(vrow.get('ifindex')).toBe(vethA.ifindex);
    expect(vrow.get('mac_in_use')).toBe([...vethA.mac].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    expect(vrow.get('admin_state')).toBe('up');
  });

  it("a missing device or an unknown type: ofport -1 and OVS's error text; the device made later is picked up on the next change", async () => {
    await configure(rig, addBr('br0'));
    await configure(rig, addPort('br0', 'nosuchdev0'));
    await configure(rig, addPort('br0', 'foo0', { type: 'foo' }));
    expect(interfaces(rig.idl)).toMatchObject({
      nosuchdev0: [-1, 'could not open network device nosuchdev0 (No such device)'],
      foo0: [-1, 'could not open network device foo0 (Address family not supported by protocol)'],
    });
    expect(rig.vlog.recent.some((l) => l.endsWith('netdev|WARN|could not create netdev foo0 of unknown type foo'))).toBe(true);
    rig.kernel.initNet.addDevice({ name: 'nosuchdev0', kind: 'dummy' });
    await configure(rig, addPort('br0', 'other0', { type: 'internal' }));
    // The failed port got its number when it finally worked (failures to open spend none); which of the two
    // new ones is first follows OVS's hash order.
    const ifs = interfaces(rig.idl);
    expect([ifs.nosuchdev0, ifs.other0].map((x) => x![1])).toEqual([null, null]);
    expect(new Set([ifs.nosuchdev0![0], ifs.other0![0]])).toEqual(new Set([1, 2]));
  });

  it('tunnels share a backer; a duplicate tunnel fails and is retried on every reconfiguration, spending a number each time', async () => {
    await configure(rig, addBr('br0'));
    await configure(rig, addPort('br0', 'vxlan0', { type: 'vxlan', options: new Map([['remote_ip', '192.0.2.1']]) }));
    await configure(rig, addPort('br0', 'vxlan2', { type: 'vxlan', options: new Map([['remote_ip', '192.0.2.2']]) }));
    await configure(rig, addPort('br0', 'vxlan3', { type: 'vxlan', options: new Map([['remote_ip', '192.0.2.1']]) }));
    expect(interfaces(rig.idl)).toMatchObject({
      vxlan0: [1, null],
      vxlan2: [2, null],
      vxlan3: [-1, 'could not add network device vxlan3 to ofproto (File exists)'],
    });
    await configure(rig, addPort('br0', 'int9', { type: 'internal' }));
    const n = interfaces(rig.idl).int9![0]!;
    expect(n).toBeGreaterThan(3); // 3 was spent by vxlan3's first try, more by retries
    // The users of vxlan_sys_4789 go; vxlan3 fits on the surviving backer.
    await configure(rig, delPort('br0', 'vxlan0'));
    await configure(rig, delPort('br0', 'vxlan2'));
    expect(interfaces(rig.idl).vxlan3![1]).toBeNull();
    expect(Object.values(kernelPorts())).toContain('vxlan_sys_4789');
    await configure(rig, delPort('br0', 'vxlan3'));
    expect(Object.values(kernelPorts())).not.toContain('vxlan_sys_4789');
  });

  it('the oracle ofport scenario: requests, a taken request, a changed request, several ports in one transaction (hash order)', async () => {
    const internal = { type: 'internal' };
    await configure(rig, addBr('br0'));
    await configure(rig, addPort('br0', 'p1', internal));
    await configure(rig, addPort('br0', 'p2', internal));
    await configure(rig, addPort('br0', 'p10', { ...internal, ofport_request: 10 }));
    await configure(rig, addPort('br0', 'p3', internal));
    expect(interfaces(rig.idl)).toMatchObject({ p1: [1, null], p2: [2, null], p10: [10, null], p3: [3, null] });
    // Two ports asking for 20 in one transaction: one gets it, the other the next automatic number.
    await configure(rig, (txn, idl) => {
      addPort('br0', 'q1', { ...internal, ofport_request: 20 })(txn, idl);
      addPort('br0', 'q2', { ...internal, ofport_request: 20 })(txn, idl);
    });
    let ifs = interfaces(rig.idl);
    expect(new Set([ifs.q1![0], ifs.q2![0]])).toEqual(new Set([20, 4]));
    await configure(rig, addPort('br0', 'q3', { ...internal, ofport_request: 10 }));
    await configure(rig, addPort('br0', 'q6', { ...internal, ofport_request: 65279 }));
    expect(interfaces(rig.idl)).toMatchObject({ q3: [5, null], q6: [65279, null] });
    // A new request on a live port: deleted and added back with it (its datapath port kept).
    const dpBefore = Object.entries(kernelPorts()).find(([, n]) => n === 'p1')![0];
    await configure(rig, (txn, idl) => txn.update([...idl.rows('Interface')].find((r) => r.get('name') === 'p1')!, { ofport_request: 30 }));
    expect(interfaces(rig.idl).p1).toEqual([30, null]);
    expect(bridgeLog().slice(-2)).toEqual(['bridge|INFO|bridge br0: deleted interface p1 on port 1', 'bridge|INFO|bridge br0: added interface p1 on port 30']);
    void dpBefore;
    // m1..m4 in one transaction: 6, 7, 8, 9 to m1, m4, m3, m2 in the oracle. OVS's hash puts m1 and m4 in
    // bucket 0 and m2 and m3 in bucket 6 of this 8-bucket map; within a bucket the order follows the rows'
    // UUIDs (random), so only the buckets' order is certain.
    await configure(rig, (txn, idl) => {
      for (const n of ['m1', 'm2', 'm3', 'm4']) addPort('br0', n, internal)(txn, idl);
    });
    ifs = interfaces(rig.idl);
    expect(new Set([ifs.m3![0], ifs.m2![0]])).toEqual(new Set([8, 9]));
    expect(new Set([ifs.m1![0], ifs.m4![0]])).toEqual(new Set([6, 7]));
  });

  it('a restart: the datapath ports the database still configures are kept, with their OpenFlow numbers; stray ones go', async () => {
    await configure(rig, addBr('br0'));
    await configure(rig, addPort('br0', 'int0', { type: 'internal' }));
    await configure(rig, addPort('br0', 'int1', { type: 'internal' }));
    await configure(rig, delPort('br0', 'int0'));
    expect(interfaces(rig.idl)).toMatchObject({ int1: [2, null] });
    const dpBefore = kernelPorts();
    // The daemon goes away without cleaning up; meanwhile someone adds a vport by hand.
    await rig.vswitchd.stop(false);
    const dp = rig.kernel.ovs!.datapaths()[0]!;
    expect(
      dp.buckets
        .flat()
        .map((v) => v.name)
        .sort(),
    ).toEqual(Object.values(dpBefore).sort());
    rig.kernel.initNet.addDevice({ name: 'stray0', kind: 'dummy' });
    const byHand = await DpifNetlink.open('ovs-system', { socket: async (protocol) => rig.kernel.socket({ protocol }) }, false);
    await byHand.portAdd({ name: 'stray0', type: 'system' });
    await byHand.close();
    rig.vswitchd = await Vswitchd.start({ db: rig.vswitchd.opts.db, socket: rig.vswitchd.opts.socket, vlog: rig.vlog, pollIntervalMs: 50 });
    await configure(rig, addPort('br0', 'int2', { type: 'internal' }));
    // int1 keeps number 2 (and its datapath port); the new port's number comes after the highest
    // one installed from the datapath (init_ports), as the lab shows real OVS 3.1 doing after a restart.
    expect(interfaces(rig.idl)).toMatchObject({ br0: [65534, null], int1: [2, null], int2: [3, null] });
    expect(kernelPorts()).toMatchObject({ 1: 'br0', 3: 'int1' });
    expect(Object.values(kernelPorts())).not.toContain('stray0');
  });

  it('del-br takes the bridge, its ports and (the last bridge) the datapath away; ovs-appctl dpif/show shows what is there', async () => {
    await configure(rig, addBr('br0'));
    await configure(rig, addPort('br0', 'patch-a', { type: 'patch', options: new Map([['peer', 'patch-b']]) }));
    expect(await unixctlTransact(`${rig.dir}/vswitchd.ctl`, 'dpif/show', [])).toBe(
      'system@ovs-system: hit:0 missed:0\n  br0:\n    br0 65534/1: (internal)\n    patch-a 1/none: (patch: peer=patch-b)\n',
    );
    await configure(rig, delBr('br0'));
    expect(bridgeLog().slice(-2)).toEqual([
      'bridge|INFO|bridge br0: deleted interface br0 on port 65534',
      'bridge|INFO|bridge br0: deleted interface patch-a on port 1',
    ]);
    expect(rig.kernel.ovs!.datapaths()).toEqual([]);
    expect(await unixctlTransact(`${rig.dir}/vswitchd.ctl`, 'dpif/show', [])).toBe('');
  });
});

describe('tracing (ovs-appctl trace/arm, trace/last)', () => {
  const ctl = () => join(rig.dir, 'vswitchd.ctl');
  /** The names on the way from the root to the first node named `name`, or undefined. */
  function pathTo(nodes: TraceNode[], name: string): string[] | undefined {
    for (const n of nodes) {
      if (n.name === name) return [n.name];
      const below = pathTo(n.children, name);
      if (below) return [n.name, ...below];
    }
    return undefined;
  }

  function findNode(nodes: TraceNode[], pred: (n: TraceNode) => boolean): TraceNode | undefined {
    for (const n of nodes) {
      if (pred(n)) return n;
      const below = findNode(n.children, pred);
      if (below) return below;
    }
    return undefined;
  }

  it("records the seed's call path of an add-port, from bridge_reconfigure down to the vport's create in the kernel", async () => {
    await configure(rig, addBr('br0'));
    rig.kernel.initNet.addDevice({ name: 'vethA', kind: 'dummy' });
    await unixctlTransact(ctl(), 'trace/arm', []);
    await configure(rig, addPort('br0', 'vethA'));
    const trace = parseTrace(JSON.parse(await unixctlTransact(ctl(), 'trace/last', ['--json'])));
    const path = pathTo(trace.roots, 'netdev_create')!;
    // Seed 004: bridge_reconfigure->bridge_add_ports->bridge_add_ports__->iface_create->iface_do_create->ofproto_port_add->
    // port_add(ofproto_class)->dpif_port_add->dpif_netlink_port_add(dpif_class)->dpif_netlink_port_add__->(kernel)
    // ->ovs_vport_cmd_new->new_vport->ovs_vport_add, then vport_ops->create (netdev_create for a system device).
    const seed = [
      'bridge_reconfigure',
      'bridge_add_ports',
      'bridge_add_ports__',
      'iface_create',
      'iface_do_create',
      'ofproto_port_add',
      'port_add',
      'dpif_port_add',
      'dpif_netlink_port_add',
      'dpif_netlink_port_add__',
      'ovs_vport OVS_VPORT_CMD_NEW',
      'ovs_vport_cmd_new',
      'new_vport',
      'ovs_vport_add',
      'netdev_create',
    ];
    expect(path.filter((n) => seed.includes(n))).toEqual(seed);
    // The message is decoded, the reply follows the kernel's work, and the layers are as the seed draws them.
    const request = findNode(trace.roots, (n) => n.kind === 'request' && n.name === 'ovs_vport OVS_VPORT_CMD_NEW')!;
    expect(request.layer).toBe('dpif');
    expect(request.lines).toEqual(expect.arrayContaining(['OVS_VPORT_ATTR_NAME: "vethA"', 'OVS_VPORT_ATTR_TYPE: OVS_VPORT_TYPE_NETDEV(1)']));
    expect(request.children.map((c) => `${c.kind} ${c.layer} ${c.name}`)).toEqual([
      'call kernel ovs_vport_cmd_new',
      'reply kernel ovs_vport OVS_VPORT_CMD_NEW',
    ]);
    const tree = await unixctlTransact(ctl(), 'trace/last', []);
    expect(tree).toMatch(/^ofproto +.*ofproto_port_add br0 vethA → ofport 1$/m);
    expect(tree).toMatch(/^kernel +.*◀ ovs_vport OVS_VPORT_CMD_NEW seq=\d+ dp_ifindex=\d+$/m);
    expect(tree).toMatch(/^vport +.*netdev_rx_handler_register vethA$/m);
  });

  it('records only while armed: the armed change, not the next one; nothing before', async () => {
    await expect(unixctlTransact(ctl(), 'trace/last', [])).rejects.toThrow(/no operation has been traced yet/);
    await configure(rig, addBr('br0'));
    await unixctlTransact(ctl(), 'trace/arm', []);
    await configure(rig, addPort('br0', 'int0', { type: 'internal' }));
    await configure(rig, addPort('br0', 'int1', { type: 'internal' }));
    const tree = await unixctlTransact(ctl(), 'trace/last', []);
    expect(tree).toContain('iface_create br0 int0');
    expect(tree).toContain('internal_dev_create int0');
    expect(tree).not.toContain('int1');
    await expect(unixctlTransact(ctl(), 'trace/last', ['--bogus'])).rejects.toThrow(/unknown option "--bogus"/);
  });

  it('a failure is in the trace where it happened: the kernel errno, and each caller returning the error', async () => {
    await configure(rig, addBr('br0'));
    await unixctlTransact(ctl(), 'trace/arm', []);
    await configure(rig, addPort('br0', 'nosuch0', { type: 'internal' }));
    rig.kernel.initNet.addDevice({ name: 'taken0', kind: 'dummy' });
    await unixctlTransact(ctl(), 'trace/arm', []);
    // An internal port named like an existing device: register_netdevice() says EEXIST.
    await configure(rig, addPort('br0', 'taken0', { type: 'internal' }));
    const tree = await unixctlTransact(ctl(), 'trace/last', []);
    expect(tree).toMatch(/^vport +.*register_netdevice taken0 → error: -EEXIST$/m);
    expect(tree).toMatch(/^kernel +.*ovs_vport_cmd_new → error: -EEXIST$/m);
    expect(tree).toMatch(/^ofproto +.*ofproto_port_add br0 taken0 → error: EEXIST \(17\)/m);
    expect(interfaces(rig.idl).taken0).toEqual([-1, 'could not add network device taken0 to ofproto (File exists)']);
  });
});
