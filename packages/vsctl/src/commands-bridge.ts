/**
 * ovs-vsctl's own commands (utilities/ovs-vsctl.c): init, show, bridges,
 * ports, bonds, interfaces. They work on the cache of names
 * (context/cache.ts), verify what they read, and change Open_vSwitch.bridges
 * and Bridge.ports with "mutate"s (the real tool rewrites the whole set; the
 * resulting database is the same, but a serial add-port costs one UUID on the
 * wire instead of the bridge's every port).
 */
import type { Datum } from '@ovs/ovsdb';
import type { ParsedCommand } from './args.js';
import type { CachedBridge, CachedIface, CachedPort } from './context/cache.js';
import { type CommandDef, type Ctx, ExitRequest, type Prerequisites, fatal } from './context/context.js';
import type { Row } from './context/txn.js';
import { setColumn } from './columns.js';
import { datumToString, isDefault } from './datum.js';

/** pre_get_info(). */
export function preGetInfo(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'bridges');
  pre.add('Bridge', 'name', 'controller', 'fail_mode', 'ports');
  pre.add('Port', 'name', 'fake_bridge', 'tag', 'interfaces');
  pre.add('Interface', 'name', 'ofport', 'error');
}

/** pre_cmd_br_set_external_id / pre_cmd_br_get_external_id. */
function preGetInfoAndExternalIds(cmd: ParsedCommand, pre: Prerequisites): void {
  preGetInfo(cmd, pre);
  pre.add('Bridge', 'external_ids');
  pre.add('Port', 'external_ids');
}

const set = (...uuids: string[]) => ({ keys: uuids });
const str = (s: string) => ({ keys: [s] });

/** process_escape_args(): how the real tool quotes a command in its messages. */
function escapeArgs(args: string[]): string {
  return args.map((a) => (/[ \t\r\n\v\\'"]/.test(a) ? `"${a.replace(/[\\"]/g, (c) => `\\${c}`)}"` : a)).join(' ');
}

function commandString(ctx: Ctx): string {
  return escapeArgs([...ctx.cmd.options.keys(), ...ctx.argv]);
}

export function findBridge(ctx: Ctx, name: string, mustExist: boolean): CachedBridge | undefined {
  const br = ctx.cache.bridges.get(name);
  if (mustExist && !br) fatal(`no bridge named ${name}`);
  ctx.txn.verify(ctx.ovs, 'bridges');
  return br;
}

function findPort(ctx: Ctx, name: string, mustExist: boolean): CachedPort | undefined {
  let port = ctx.cache.ports.get(name);
  // A bridge's own local port is not a "port" to these commands.
  if (port && port.name === port.bridge.name) port = undefined;
  if (mustExist && !port) fatal(`no port named ${name}`);
  ctx.verifyPorts();
  return port;
}

function findIface(ctx: Ctx, name: string, mustExist: boolean): CachedIface | undefined {
  let iface = ctx.cache.ifaces.get(name);
  if (iface && iface.name === iface.port.bridge.name) iface = undefined;
  if (mustExist && !iface) fatal(`no interface named ${name}`);
  ctx.verifyPorts();
  return iface;
}

/** check_conflicts(). */
function checkConflicts(ctx: Ctx, name: string, msg: string): void {
  ctx.verifyPorts();
  if (ctx.cache.bridges.has(name)) fatal(`${msg} because a bridge named ${name} already exists`);
  const port = ctx.cache.ports.get(name);
  if (port) fatal(`${msg} because a port named ${name} already exists on bridge ${port.bridge.name}`);
  const iface = ctx.cache.ifaces.get(name);
  if (iface) fatal(`${msg} because an interface named ${name} already exists on bridge ${iface.port.bridge.name}`);
}

function sortedLines(names: string[]): string {
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => `${n}\n`)
    .join('');
}

/** atoi(): leading blanks, an optional sign, digits; anything else stops it (0 when none); wrapped to an int. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(BigInt.asIntN(32, BigInt(m[1]!))) : 0;
}

/** find_real_bridge(). */
export function findRealBridge(ctx: Ctx, name: string, mustExist: boolean): CachedBridge | undefined {
  const br = findBridge(ctx, name, mustExist);
  if (br?.parent) fatal(`${name} is a fake bridge`);
  return br;
}

/** The Bridge row holding a (real or fake) bridge's ports. */
export function bridgeRow(br: CachedBridge): Row {
  return (br.parent ?? br).cfg!;
}

function addBr(ctx: Ctx): void {
  const name = ctx.argv[1]!;
  if (!name) fatal('bridge name must not be empty string');
  let parentName: string | undefined;
  let vlan = 0;
  if (ctx.argv.length === 4) {
    parentName = ctx.argv[2]!;
    vlan = atoi(ctx.argv[3]!);
    if (vlan < 0 || vlan > 4095) fatal(`${ctx.argv[0]}: vlan must be between 0 and 4095`);
  } else if (ctx.argv.length !== 2) fatal(`'${ctx.argv[0]}' command takes exactly 1 or 3 arguments`);
  if (ctx.has('--may-exist')) {
    const br = findBridge(ctx, name, false);
    if (br) {
      if (parentName === undefined) {
        if (br.parent) fatal(`"--may-exist add-br ${name}" but ${name} is a VLAN bridge for VLAN ${br.vlan}`);
      } else if (!br.parent) {
        fatal(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} is not a VLAN bridge`);
      } else if (br.parent.name !== parentName) {
        fatal(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} has the wrong parent ${br.parent.name}`);
      } else if (br.vlan !== vlan) {
        fatal(`"--may-exist add-br ${name} ${parentName} ${vlan}" but ${name} is a VLAN bridge for the wrong VLAN ${br.vlan}`);
      }
      return;
    }
  }
  checkConflicts(ctx, name, `cannot create a bridge named ${name}`);
  const { txn } = ctx;
  let parent: CachedBridge | undefined;
  if (parentName !== undefined) {
    parent = findBridge(ctx, parentName, false);
    if (parent?.parent) fatal('cannot create bridge with fake bridge as parent');
    if (!parent) fatal(`parent bridge ${parentName} does not exist`);
    const conflict = parent!.children.get(vlan);
    if (conflict) fatal(`bridge ${parentName} already has a child VLAN bridge ${conflict.name} on VLAN ${vlan}`);
  }
  const iface = txn.insert('Interface');
  txn.write(iface, 'name', str(name));
  txn.write(iface, 'type', str('internal'));
  const port = txn.insert('Port');
  txn.write(port, 'name', str(name));
  txn.write(port, 'interfaces', set(iface.uuid));
  if (parent) {
    txn.write(port, 'fake_bridge', { keys: [true] });
    txn.write(port, 'tag', { keys: [vlan] });
    txn.mutateSet(parent.cfg!, 'ports', set(port.uuid), set());
  } else {
    const br = txn.insert('Bridge');
    txn.write(br, 'name', str(name));
    txn.write(br, 'ports', set(port.uuid));
    txn.mutateSet(ctx.ovs, 'bridges', set(br.uuid), set());
  }
  ctx.newIfaces.push(iface);
  ctx.invalidateCache();
}

function delPort(ctx: Ctx, port: CachedPort): void {
  ctx.txn.mutateSet(bridgeRow(port.bridge), 'ports', set(), set(port.cfg.uuid));
  for (const i of port.ifaces) ctx.txn.delete(i.cfg);
  ctx.txn.delete(port.cfg);
  ctx.cache.delPort(port);
}

/** del_bridge(): its fake bridges first, then its ports, then the bridge. */
function delBridge(ctx: Ctx, br: CachedBridge): void {
  for (const child of [...br.children.values()]) delBridge(ctx, child);
  for (const p of [...br.ports]) delPort(ctx, p);
  if (br.cfg) {
    ctx.txn.delete(br.cfg);
    ctx.txn.mutateSet(ctx.ovs, 'bridges', set(), set(br.cfg.uuid));
  }
  ctx.cache.delBridge(br);
}

function delBr(ctx: Ctx): void {
  const br = findBridge(ctx, ctx.argv[1]!, !ctx.has('--if-exists'));
  if (br) delBridge(ctx, br);
}

function listBr(ctx: Ctx): void {
  let real = ctx.has('--real');
  let fake = ctx.has('--fake');
  if (!real && !fake) real = fake = true;
  ctx.out(sortedLines([...ctx.cache.bridges.values()].filter((b) => (b.parent ? fake : real)).map((b) => b.name)));
}

function brExists(ctx: Ctx): void {
  if (!findBridge(ctx, ctx.argv[1]!, false)) throw new ExitRequest(2);
}

function listPorts(ctx: Ctx): void {
  const br = findBridge(ctx, ctx.argv[1]!, true)!;
  ctx.txn.verify(bridgeRow(br), 'ports');
  ctx.out(sortedLines(br.ports.filter((p) => p.name !== br.name).map((p) => p.name)));
}

function listIfaces(ctx: Ctx): void {
  const br = findBridge(ctx, ctx.argv[1]!, true)!;
  ctx.verifyPorts();
  ctx.out(sortedLines(br.ports.flatMap((p) => p.ifaces.map((i) => i.name)).filter((n) => n !== br.name)));
}

function addPort(ctx: Ctx, brName: string, portName: string, ifaceNames: string[], settings: string[], fakeIface: boolean): void {
  if (!portName) fatal('port name must not be empty string');
  if (ifaceNames.some((n) => !n)) fatal('interface name must not be empty string');
  if (ctx.has('--may-exist')) {
    const existing = findPort(ctx, portName, false);
    if (existing) {
      const want = [...ifaceNames].sort();
      const have = existing.ifaces.map((i) => i.name).sort();
      if (existing.bridge.name !== brName) fatal(`"${commandString(ctx)}" but ${portName} is actually attached to bridge ${existing.bridge.name}`);
      if (want.join('\0') !== have.join('\0')) fatal(`"${commandString(ctx)}" but ${portName} actually has interface(s) ${have.join(', ')}`);
      return;
    }
  }
  checkConflicts(ctx, portName, `cannot create a port named ${portName}`);
  for (const n of ifaceNames) checkConflicts(ctx, n, `cannot create an interface named ${n}`);
  const bridge = findBridge(ctx, brName, true)!;
  const { txn } = ctx;
  const ifaces: Row[] = ifaceNames.map((n) => {
    const i = txn.insert('Interface');
    txn.write(i, 'name', str(n));
    ctx.newIfaces.push(i);
    return i;
  });
  const port = txn.insert('Port');
  txn.write(port, 'name', str(portName));
  txn.write(port, 'interfaces', set(...ifaces.map((i) => i.uuid)));
  txn.write(port, 'bond_fake_iface', { keys: [fakeIface] });
  if (bridge.parent) txn.write(port, 'tag', { keys: [bridge.vlan] });
  for (const s of settings) {
    try {
      setColumn(txn, port, s, ctx.symtab);
    } catch (e) {
      fatal((e as Error).message);
    }
  }
  txn.mutateSet(bridgeRow(bridge), 'ports', set(port.uuid), set());
  const cached = ctx.cache.addPort(bridge, port, portName);
  ifaces.forEach((i, k) => ctx.cache.addIface(cached, i, ifaceNames[k]!));
}

function addBond(ctx: Ctx): void {
  const rest = ctx.argv.slice(3);
  const firstSetting = rest.findIndex((a) => a.includes('='));
  const n = firstSetting < 0 ? rest.length : firstSetting;
  if (n < 2) fatal(`add-bond requires at least 2 interfaces, but only ${n} were specified`);
  addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, rest.slice(0, n), rest.slice(n), ctx.has('--fake-iface'));
}

function addBondIface(ctx: Ctx): void {
  const port = findPort(ctx, ctx.argv[1]!, true)!;
  const name = ctx.argv[2]!;
  if (ctx.has('--may-exist')) {
    const iface = findIface(ctx, name, false);
    if (iface) {
      if (iface.port === port) return;
      fatal(`"${commandString(ctx)}" but ${name} is actually attached to port ${iface.port.name}`);
    }
  }
  checkConflicts(ctx, name, `cannot create an interface named ${name}`);
  const iface = ctx.txn.insert('Interface');
  ctx.txn.write(iface, 'name', str(name));
  ctx.txn.mutateSet(port.cfg, 'interfaces', set(iface.uuid), set());
  ctx.newIfaces.push(iface);
  ctx.cache.addIface(port, iface, name);
}

function delBondIface(ctx: Ctx): void {
  const name = ctx.argv[ctx.argv.length - 1]!;
  const iface = findIface(ctx, name, !ctx.has('--if-exists'));
  if (!iface) return;
  if (ctx.argv.length > 2) {
    const port = findPort(ctx, ctx.argv[1]!, true);
    if (iface.port !== port) fatal(`port ${ctx.argv[1]} does not have an interface ${name}`);
  }
  if (iface.port.ifaces.length < 2) fatal(`cannot delete last interface from port ${iface.port.name}`);
  ctx.txn.mutateSet(iface.port.cfg, 'interfaces', set(), set(iface.cfg.uuid));
  ctx.txn.delete(iface.cfg);
  ctx.cache.delIface(iface);
}

function delPortCmd(ctx: Ctx): void {
  const mustExist = !ctx.has('--if-exists');
  const target = ctx.argv[ctx.argv.length - 1]!;
  let port: CachedPort | undefined;
  if (findBridge(ctx, target, false)) {
    if (mustExist) {
      fatal(`cannot delete port ${target} because it is the local port for bridge ${target} (deleting this port requires deleting the entire bridge)`);
    }
  } else if (!ctx.has('--with-iface')) {
    port = findPort(ctx, target, mustExist);
  } else {
    port = findPort(ctx, target, false) ?? findIface(ctx, target, false)?.port;
    if (mustExist && !port) fatal(`no port or interface named ${target}`);
  }
  if (!port) return;
  if (ctx.argv.length === 3) {
    const bridge = findBridge(ctx, ctx.argv[1]!, true);
    if (port.bridge !== bridge) {
      if (port.bridge.parent === bridge) {
        fatal(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]} (although its child bridge ${port.bridge.name} does)`);
      }
      fatal(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]}`);
    }
  }
  delPort(ctx, port);
}

/** get_external_id(): one key's value, or every KEY=VALUE whose key has the prefix (sorted by key). */
function getExternalId(ctx: Ctx, d: Datum, prefix: string, key: string | undefined): void {
  if (key !== undefined) {
    const i = d.keys.indexOf(prefix + key);
    if (i >= 0) ctx.out(`${d.values![i]}\n`);
    return;
  }
  const pairs = d.keys.map((k, i) => [k as string, d.values![i] as string] as const).filter(([k]) => k.startsWith(prefix));
  pairs.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  ctx.out(pairs.map(([k, v]) => `${k.slice(prefix.length)}=${v}\n`).join(''));
}

/** A fake bridge's external IDs are its Port's, with "fake-bridge-" before each key. */
function externalIdsRow(ctx: Ctx, br: CachedBridge): { row: Row; prefix: string } {
  if (br.cfg) return { row: br.cfg, prefix: '' };
  return { row: ctx.cache.ports.get(br.name)!.cfg, prefix: 'fake-bridge-' };
}

function brGetExternalId(ctx: Ctx): void {
  const br = findBridge(ctx, ctx.argv[1]!, true)!;
  const { row, prefix } = externalIdsRow(ctx, br);
  ctx.txn.verify(row, 'external_ids');
  getExternalId(ctx, ctx.txn.read(row, 'external_ids'), prefix, ctx.argv[2]);
}

function brSetExternalId(ctx: Ctx): void {
  const br = findBridge(ctx, ctx.argv[1]!, true)!;
  const { row, prefix } = externalIdsRow(ctx, br);
  const key = prefix + ctx.argv[2]!;
  const value = ctx.argv[3];
  ctx.txn.verify(row, 'external_ids');
  ctx.txn.mutateSet(row, 'external_ids', value === undefined ? { keys: [], values: [] } : { keys: [key], values: [value] }, { keys: [key] });
}

/** cmd_show_tables: what `show` prints for each table, and the column naming a row. */
const SHOW: Record<string, { name?: string; columns: string[] }> = {
  Open_vSwitch: { columns: ['manager_options', 'bridges', 'ovs_version'] },
  Bridge: { name: 'name', columns: ['controller', 'fail_mode', 'datapath_type', 'ports'] },
  Port: { name: 'name', columns: ['tag', 'trunks', 'interfaces'] },
  Interface: { name: 'name', columns: ['type', 'options', 'error', 'bfd_status'] },
  Controller: { name: 'target', columns: ['is_connected'] },
  Manager: { name: 'target', columns: ['is_connected'] },
};

function preShow(_cmd: ParsedCommand, pre: Prerequisites): void {
  for (const [t, s] of Object.entries(SHOW)) pre.add(t, ...(s.name ? [s.name] : []), ...s.columns);
}

function showRow(ctx: Ctx, row: Row, level: number, shown: Set<string>, out: string[]): void {
  const { txn } = ctx;
  const spec = SHOW[row.table.name];
  const pad = ' '.repeat(level * 4);
  if (spec?.name) {
    const c = row.table.columns.get(spec.name)!;
    out.push(`${pad}${row.table.name} ${datumToString(txn.read(row, spec.name), c.type)}\n`);
  } else out.push(`${pad}${row.uuid}\n`);
  if (!spec || shown.has(row.table.name)) return;
  shown.add(row.table.name);
  for (const name of spec.columns) {
    const col = row.table.columns.get(name)!;
    const d = txn.read(row, name);
    const ref = col.type.key.type === 'uuid' ? col.type.key.refTable : undefined;
    if (ref && SHOW[ref]) {
      for (const u of d.keys) {
        const r = txn.get(ref, u as string);
        if (r) showRow(ctx, r, level + 1, shown, out);
      }
      continue;
    }
    if (!isDefault(d, col.type)) out.push(`${' '.repeat((level + 1) * 4)}${name}: ${datumToString(d, col.type)}\n`);
  }
  shown.delete(row.table.name);
}

function show(ctx: Ctx): void {
  const out: string[] = [];
  for (const r of ctx.txn.rows('Open_vSwitch')) showRow(ctx, r, 0, new Set(), out);
  ctx.out(out.join(''));
}

export const bridgeCommands: CommandDef[] = [
  { name: 'init', minArgs: 0, maxArgs: 0, options: '', mode: 'RW', run: () => {} },
  { name: 'show', minArgs: 0, maxArgs: 0, options: '', mode: 'RO', pre: preShow, run: show },
  { name: 'add-br', minArgs: 1, maxArgs: 3, options: '--may-exist', mode: 'RW', pre: preGetInfo, run: addBr },
  { name: 'del-br', minArgs: 1, maxArgs: 1, options: '--if-exists', mode: 'RW', pre: preGetInfo, run: delBr },
  { name: 'list-br', minArgs: 0, maxArgs: 0, options: '--real,--fake', mode: 'RO', pre: preGetInfo, run: listBr },
  { name: 'br-exists', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetInfo, run: brExists },
  {
    name: 'br-to-vlan',
    minArgs: 1,
    maxArgs: 1,
    options: '',
    mode: 'RO',
    pre: preGetInfo,
    run: (ctx) => ctx.out(`${findBridge(ctx, ctx.argv[1]!, true)!.vlan}\n`),
  },
  {
    name: 'br-to-parent',
    minArgs: 1,
    maxArgs: 1,
    options: '',
    mode: 'RO',
    pre: preGetInfo,
    run: (ctx) => {
      const br = findBridge(ctx, ctx.argv[1]!, true)!;
      ctx.out(`${(br.parent ?? br).name}\n`);
    },
  },
  {
    name: 'br-set-external-id',
    minArgs: 2,
    maxArgs: 3,
    options: '',
    mode: 'RW',
    pre: preGetInfoAndExternalIds,
    run: brSetExternalId,
  },
  {
    name: 'br-get-external-id',
    minArgs: 1,
    maxArgs: 2,
    options: '',
    mode: 'RO',
    pre: preGetInfoAndExternalIds,
    run: brGetExternalId,
  },
  { name: 'list-ports', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetInfo, run: listPorts },
  {
    name: 'add-port',
    minArgs: 2,
    maxArgs: Infinity,
    options: '--may-exist',
    mode: 'RW',
    pre: preGetInfo,
    run: (ctx) => addPort(ctx, ctx.argv[1]!, ctx.argv[2]!, [ctx.argv[2]!], ctx.argv.slice(3), false),
  },
  { name: 'add-bond', minArgs: 4, maxArgs: Infinity, options: '--may-exist,--fake-iface', mode: 'RW', pre: preGetInfo, run: addBond },
  { name: 'add-bond-iface', minArgs: 2, maxArgs: 2, options: '--may-exist', mode: 'RW', pre: preGetInfo, run: addBondIface },
  { name: 'del-bond-iface', minArgs: 1, maxArgs: 2, options: '--if-exists', mode: 'RW', pre: preGetInfo, run: delBondIface },
  { name: 'del-port', minArgs: 1, maxArgs: 2, options: '--if-exists,--with-iface', mode: 'RW', pre: preGetInfo, run: delPortCmd },
  {
    name: 'port-to-br',
    minArgs: 1,
    maxArgs: 1,
    options: '',
    mode: 'RO',
    pre: preGetInfo,
    run: (ctx) => ctx.out(`${findPort(ctx, ctx.argv[1]!, true)!.bridge.name}\n`),
  },
  { name: 'list-ifaces', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetInfo, run: listIfaces },
  {
    name: 'iface-to-br',
    minArgs: 1,
    maxArgs: 1,
    options: '',
    mode: 'RO',
    pre: preGetInfo,
    run: (ctx) => ctx.out(`${findIface(ctx, ctx.argv[1]!, true)!.port.bridge.name}\n`),
  },
];
