/**
 * Test rig: an OVSDB server (in-process, on a unix socket in a temporary
 * directory), the kernel model, and ovs-vswitchd between them, with a small
 * client that changes the configuration the way ovs-vsctl does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '@ovs/kernel-datapath';
import { Database, Idl, type IdlRow, OvsdbServer, ServedDatabase, type Uuid, type VswitchTables, vswitchDatabaseSchema } from '@ovs/ovsdb';
import { Vlog } from '../vlog.js';
import { Vswitchd } from '../vswitchd.js';

export interface Rig {
  dir: string;
  kernel: Kernel;
  server: OvsdbServer;
  /** The configuring client (what ovs-vsctl would be). */
  idl: Idl<VswitchTables>;
  vswitchd: Vswitchd;
  vlog: Vlog;
  close(): Promise<void>;
}

export async function startRig(opts: { kernel?: Kernel } = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'vswitchd-test-'));
  const kernel = opts.kernel ?? new Kernel();
  const server = await OvsdbServer.start({ databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))], remotes: [`punix:${join(dir, 'db.sock')}`] });
  const idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
  const init = idl.transaction();
  init.insert('Open_vSwitch', {});
  await init.commit();
  const vlog = new Vlog({ now: () => new Date(0) });
  const vswitchd = await Vswitchd.start({ db: `unix:${join(dir, 'db.sock')}`, socket: async (protocol) => kernel.socket({ protocol }), unixctl: join(dir, 'vswitchd.ctl'), vlog, pollIntervalMs: 50 });
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
export async function configure(rig: Rig, change: (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => void): Promise<void> {
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
export function addBr(name: string, type = '') {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const iface = txn.insert('Interface', { name, type: 'internal' });
    const port = txn.insert('Port', { name, interfaces: [iface.uuid] });
    const br = txn.insert('Bridge', { name, ports: [port.uuid], datapath_type: type });
    txn.mutate(ovsRow(idl), 'bridges', 'insert', [br.uuid]);
  };
}

export function bridgeRow(idl: Idl<VswitchTables>, name: string): IdlRow<VswitchTables['Bridge']> {
  const row = [...idl.rows('Bridge')].find((r) => r.get('name') === name);
  if (!row) throw new Error(`no bridge ${name}`);
  return row;
}

/** add-port BR NAME [-- set Interface NAME type=T options:... ofport_request=N], with a mutate of Bridge.ports. */
export function addPort(br: string, name: string, iface: Partial<VswitchTables['Interface']> = {}) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const i = txn.insert('Interface', { name, ...iface });
    const p = txn.insert('Port', { name, interfaces: [i.uuid] });
    txn.mutate(bridgeRow(idl, br), 'ports', 'insert', [p.uuid]);
  };
}

export function delPort(br: string, name: string) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    const port = [...idl.rows('Port')].find((r) => r.get('name') === name)!;
    txn.mutate(bridgeRow(idl, br), 'ports', 'delete', [port.uuid]);
  };
}

export function delBr(name: string) {
  return (txn: ReturnType<Idl<VswitchTables>['transaction']>, idl: Idl<VswitchTables>) => {
    txn.mutate(ovsRow(idl), 'bridges', 'delete', [bridgeRow(idl, name).uuid]);
  };
}

/** Interface name -> [ofport, error] as the database has them. */
export function interfaces(idl: Idl<VswitchTables>): Record<string, [number | null, string | null]> {
  const out: Record<string, [number | null, string | null]> = {};
  for (const r of idl.rows('Interface')) out[r.get('name')] = [r.get('ofport'), r.get('error')];
  return out;
}

export type { Uuid };
