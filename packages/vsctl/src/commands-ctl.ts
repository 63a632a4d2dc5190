/**
 * ovs-vsctl's controller, fail-mode and manager commands and emer-reset
 * (utilities/ovs-vsctl.c): set-/get-/del-controller, set-/get-/del-fail-mode,
 * set-/get-/del-manager, set-/get-/del-ssl, add-/del-/get-aa-mapping, emer-reset. Controller and Manager rows are deleted
 * explicitly, as the real tool does (the server would also collect them once
 * unreferenced).
 */
import type { ParsedCommand } from './args.js';
import { bridgeRow, findBridge, findRealBridge, preGetInfo } from './commands-bridge.js';
import { type CommandDef, type Ctx, type Prerequisites, fatal } from './context/context.js';
import type { Row } from './context/txn.js';

const none = { keys: [] };
const emptyMap = { keys: [], values: [] };
const uuidSet = (rows: Row[]) => ({ keys: rows.map((r) => r.uuid).sort() });

function sortedTargets(targets: string[], unique: boolean): string {
  // svec_sort() (strcmp order); get-manager also drops duplicates (svec_sort_unique()).
  const sorted = [...targets].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out = unique ? sorted.filter((t, i) => i === 0 || t !== sorted[i - 1]) : sorted;
  return out.map((t) => `${t}\n`).join('');
}

/** The rows a set of references names, as the replica (and this transaction) sees them. */
function referenced(ctx: Ctx, row: Row, column: string, table: string): Row[] {
  return ctx.txn
    .read(row, column)
    .keys.map((u) => ctx.txn.get(table, u as string))
    .filter((r): r is Row => r !== undefined);
}

/**
 * vconn_verify_name() && pvconn_verify_name() (stream_/pstream_verify_name()
 * for managers: the same classes): a known TYPE before a colon.
 */
function warnIfErroneous(ctx: Ctx, target: string): void {
  const colon = target.indexOf(':');
  const type = colon < 0 ? undefined : target.slice(0, colon);
  if (type === undefined || !['tcp', 'unix', 'ssl', 'ptcp', 'punix', 'pssl'].includes(type)) {
    ctx.warn('vsctl', `target type "${target}" is possibly erroneous`);
  }
}

/** pre_controller(). */
function preController(cmd: ParsedCommand, pre: Prerequisites): void {
  preGetInfo(cmd, pre);
  pre.add('Controller', 'target');
}

/** verify_controllers(). */
function verifyControllers(ctx: Ctx, br: Row): Row[] {
  ctx.txn.verify(br, 'controller');
  const controllers = referenced(ctx, br, 'controller', 'Controller');
  for (const c of controllers) ctx.txn.verify(c, 'target');
  return controllers;
}

function getController(ctx: Ctx): void {
  const br = bridgeRow(findBridge(ctx, ctx.argv[1]!, true)!);
  ctx.txn.verify(br, 'controller');
  const targets = referenced(ctx, br, 'controller', 'Controller').map((c) => ctx.txn.scalar(c, 'target') as string);
  ctx.out(sortedTargets(targets, false));
}

function delController(ctx: Ctx): void {
  const br = findRealBridge(ctx, ctx.argv[1]!, true)!.cfg!;
  const controllers = verifyControllers(ctx, br);
  if (ctx.txn.read(br, 'controller').keys.length) {
    for (const c of controllers) ctx.txn.delete(c);
    ctx.txn.write(br, 'controller', none);
  }
}

function setController(ctx: Ctx): void {
  const br = findRealBridge(ctx, ctx.argv[1]!, true)!.cfg!;
  for (const c of verifyControllers(ctx, br)) ctx.txn.delete(c);
  const probe = ctx.option('--inactivity-probe');
  const controllers = ctx.argv.slice(2).map((target) => {
    warnIfErroneous(ctx, target);
    const c = ctx.txn.insert('Controller');
    ctx.txn.write(c, 'target', { keys: [target] });
    if (probe !== undefined) ctx.txn.write(c, 'inactivity_probe', { keys: [atoll(probe)] });
    return c;
  });
  ctx.txn.write(br, 'controller', uuidSet(controllers));
}

function getFailMode(ctx: Ctx): void {
  const br = bridgeRow(findBridge(ctx, ctx.argv[1]!, true)!);
  ctx.txn.verify(br, 'fail_mode');
  const mode = ctx.txn.scalar(br, 'fail_mode') as string | undefined;
  if (mode) ctx.out(`${mode}\n`);
}

function delFailMode(ctx: Ctx): void {
  const br = findRealBridge(ctx, ctx.argv[1]!, true)!.cfg!;
  ctx.txn.write(br, 'fail_mode', none);
}

function setFailMode(ctx: Ctx): void {
  const br = findRealBridge(ctx, ctx.argv[1]!, true)!.cfg!;
  const mode = ctx.argv[2]!;
  if (mode !== 'standalone' && mode !== 'secure') fatal('fail-mode must be "standalone" or "secure"');
  ctx.txn.write(br, 'fail_mode', { keys: [mode] });
}

/** pre_manager(). */
function preManager(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'manager_options');
  pre.add('Manager', 'target');
}

/** verify_managers(). */
function verifyManagers(ctx: Ctx): Row[] {
  ctx.txn.verify(ctx.ovs, 'manager_options');
  const managers = referenced(ctx, ctx.ovs, 'manager_options', 'Manager');
  for (const m of managers) ctx.txn.verify(m, 'target');
  return managers;
}

/** delete_managers(). */
function deleteManagers(ctx: Ctx, managers: Row[]): void {
  for (const m of managers) ctx.txn.delete(m);
  ctx.txn.write(ctx.ovs, 'manager_options', none);
}

function getManager(ctx: Ctx): void {
  ctx.txn.verify(ctx.ovs, 'manager_options');
  const targets = referenced(ctx, ctx.ovs, 'manager_options', 'Manager').map((m) => ctx.txn.scalar(m, 'target') as string);
  ctx.out(sortedTargets(targets, true));
}

/** atoll(): leading blanks, an optional sign, then digits; anything else stops it. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function setManager(ctx: Ctx): void {
  deleteManagers(ctx, verifyManagers(ctx));
  const probe = ctx.option('--inactivity-probe');
  const managers = ctx.argv.slice(1).map((target) => {
    warnIfErroneous(ctx, target);
    const m = ctx.txn.insert('Manager');
    ctx.txn.write(m, 'target', { keys: [target] });
    if (probe !== undefined) ctx.txn.write(m, 'inactivity_probe', { keys: [atoll(probe)] });
    return m;
  });
  ctx.txn.write(ctx.ovs, 'manager_options', uuidSet(managers));
}

/** pre_cmd_emer_reset(). */
function preEmerReset(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'manager_options', 'ssl');
  pre.add('Bridge', 'controller', 'fail_mode', 'mirrors', 'netflow', 'sflow', 'ipfix', 'flood_vlans', 'other_config');
  pre.add('Port', 'other_config');
  pre.add('Interface', 'ingress_policing_rate', 'ingress_policing_burst');
}

/** Tables whose every row emer-reset deletes (those this invocation replicates). */
const EMER_RESET_DELETED = ['Mirror', 'Controller', 'Manager', 'NetFlow', 'SSL', 'sFlow', 'IPFIX', 'Flow_Sample_Collector_Set'];

function emerReset(ctx: Ctx): void {
  const { txn } = ctx;
  txn.write(ctx.ovs, 'manager_options', none);
  txn.write(ctx.ovs, 'ssl', none);
  for (const br of txn.rows('Bridge')) {
    for (const c of ['controller', 'fail_mode', 'mirrors', 'netflow', 'sflow', 'ipfix', 'flood_vlans']) txn.write(br, c, none);
    // Only other_config:hwaddr survives.
    const oc = txn.read(br, 'other_config');
    const i = oc.keys.indexOf('hwaddr');
    txn.write(br, 'other_config', i >= 0 ? { keys: ['hwaddr'], values: [oc.values![i]!] } : emptyMap);
  }
  for (const p of txn.rows('Port')) txn.write(p, 'other_config', emptyMap);
  for (const iface of txn.rows('Interface')) {
    txn.write(iface, 'ingress_policing_rate', { keys: [0] });
    txn.write(iface, 'ingress_policing_burst', { keys: [0] });
  }
  for (const t of EMER_RESET_DELETED) for (const r of txn.rows(t)) txn.delete(r);
  ctx.invalidateCache();
}

/** pre_cmd_get_ssl(). */
function preGetSsl(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'ssl');
  pre.add('SSL', 'private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert');
}

/** pre_cmd_set_ssl() / pre_cmd_del_ssl(): only the reference; the SSL row itself is not replicated. */
function preSetSsl(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'ssl');
}

/**
 * The SSL row Open_vSwitch.ssl points to, when this invocation replicates it.
 * Deleting one it does not replicate is a no-op in the real IDL (the server
 * collects the unreferenced row).
 */
function currentSsl(ctx: Ctx): Row | undefined {
  const u = ctx.txn.scalar(ctx.ovs, 'ssl') as string | undefined;
  return u === undefined ? undefined : ctx.txn.get('SSL', u);
}

function getSsl(ctx: Ctx): void {
  ctx.txn.verify(ctx.ovs, 'ssl');
  const ssl = currentSsl(ctx);
  if (!ssl) return;
  for (const c of ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert']) ctx.txn.verify(ssl, c);
  const v = (c: string) => String(ctx.txn.scalar(ssl, c) ?? '');
  ctx.out(`Private key: ${v('private_key')}\nCertificate: ${v('certificate')}\nCA Certificate: ${v('ca_cert')}\n`);
  ctx.out(`Bootstrap: ${ctx.txn.scalar(ssl, 'bootstrap_ca_cert') === true ? 'true' : 'false'}\n`);
}

function delSsl(ctx: Ctx): void {
  if (ctx.txn.scalar(ctx.ovs, 'ssl') === undefined) return;
  ctx.txn.verify(ctx.ovs, 'ssl');
  const ssl = currentSsl(ctx);
  if (ssl) ctx.txn.delete(ssl);
  ctx.txn.write(ctx.ovs, 'ssl', none);
}

function setSsl(ctx: Ctx): void {
  ctx.txn.verify(ctx.ovs, 'ssl');
  const old = currentSsl(ctx);
  if (old) ctx.txn.delete(old);
  const ssl = ctx.txn.insert('SSL');
  ctx.txn.write(ssl, 'private_key', { keys: [ctx.argv[1]!] });
  ctx.txn.write(ssl, 'certificate', { keys: [ctx.argv[2]!] });
  ctx.txn.write(ssl, 'ca_cert', { keys: [ctx.argv[3]!] });
  ctx.txn.write(ssl, 'bootstrap_ca_cert', { keys: [ctx.has('--bootstrap')] });
  ctx.txn.write(ctx.ovs, 'ssl', { keys: [ssl.uuid] });
}

/** pre_aa_mapping(). */
function preAaMapping(cmd: ParsedCommand, pre: Prerequisites): void {
  preGetInfo(cmd, pre);
  pre.add('Bridge', 'auto_attach');
  pre.add('AutoAttach', 'mappings');
}

/** strtoull(S, &end, 10) as cmd_add_aa_mapping() checks it: digits must start S (after blanks and a sign); the value wraps to int64. */
function parseAaNumber(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (!m) fatal(`Invalid argument ${s}`);
  let v = BigInt.asUintN(64, BigInt(m![2]!));
  if (m![1] === '-') v = BigInt.asUintN(64, -v);
  return Number(BigInt.asIntN(64, v));
}

/** The Bridge row an auto-attach command works on: a fake bridge's parent's. */
function aaBridge(ctx: Ctx): Row {
  return bridgeRow(findBridge(ctx, ctx.argv[1]!, true)!);
}

function aaRow(ctx: Ctx, br: Row): Row | undefined {
  const u = ctx.txn.scalar(br, 'auto_attach') as string | undefined;
  return u === undefined ? undefined : ctx.txn.get('AutoAttach', u);
}

function addAaMapping(ctx: Ctx): void {
  const isid = parseAaNumber(ctx.argv[2]!);
  const vlan = parseAaNumber(ctx.argv[3]!);
  const br = aaBridge(ctx);
  let aa = aaRow(ctx, br);
  if (!aa) {
    aa = ctx.txn.insert('AutoAttach');
    ctx.txn.write(br, 'auto_attach', { keys: [aa.uuid] });
  }
  // autoattach_insert_mapping(): the mappings set again with the new pair (a key already there keeps its value).
  const cur = ctx.txn.read(aa, 'mappings');
  if (cur.keys.includes(isid)) return;
  const pairs = cur.keys.map((k, i) => [k as number, cur.values![i] as number] as const).concat([[isid, vlan] as const]);
  pairs.sort((a, b) => a[0] - b[0]);
  ctx.txn.write(aa, 'mappings', { keys: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) });
}

function delAaMapping(ctx: Ctx): void {
  const isid = parseAaNumber(ctx.argv[2]!);
  const vlan = parseAaNumber(ctx.argv[3]!);
  const aa = aaRow(ctx, aaBridge(ctx));
  if (!aa) return;
  const cur = ctx.txn.read(aa, 'mappings');
  if (!cur.keys.some((k, i) => k === isid && cur.values![i] === vlan)) return;
  // del_aa_mapping() keeps only the pairs whose key and value both differ from the one deleted.
  const keep = cur.keys.map((k, i) => [k as number, cur.values![i] as number] as const).filter(([k, v]) => k !== isid && v !== vlan);
  ctx.txn.write(aa, 'mappings', { keys: keep.map((p) => p[0]), values: keep.map((p) => p[1]) });
}

function getAaMapping(ctx: Ctx): void {
  const br = aaBridge(ctx);
  // verify_auto_attach().
  ctx.txn.verify(br, 'auto_attach');
  const aa = aaRow(ctx, br);
  if (!aa) return;
  ctx.txn.verify(aa, 'mappings');
  const cur = ctx.txn.read(aa, 'mappings');
  ctx.out(cur.keys.map((k, i) => `${k} ${cur.values![i]}\n`).join(''));
}

export const ctlCommands: CommandDef[] = [
  { name: 'get-controller', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preController, run: getController },
  { name: 'del-controller', minArgs: 1, maxArgs: 1, options: '', mode: 'RW', pre: preController, run: delController },
  { name: 'set-controller', minArgs: 1, maxArgs: Infinity, options: '--inactivity-probe=', mode: 'RW', pre: preController, run: setController },
  { name: 'get-fail-mode', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetInfo, run: getFailMode },
  { name: 'del-fail-mode', minArgs: 1, maxArgs: 1, options: '', mode: 'RW', pre: preGetInfo, run: delFailMode },
  { name: 'set-fail-mode', minArgs: 2, maxArgs: 2, options: '', mode: 'RW', pre: preGetInfo, run: setFailMode },
  { name: 'get-manager', minArgs: 0, maxArgs: 0, options: '', mode: 'RO', pre: preManager, run: getManager },
  { name: 'del-manager', minArgs: 0, maxArgs: 0, options: '', mode: 'RW', pre: preManager, run: (ctx) => deleteManagers(ctx, verifyManagers(ctx)) },
  { name: 'set-manager', minArgs: 1, maxArgs: Infinity, options: '--inactivity-probe=', mode: 'RW', pre: preManager, run: setManager },
  { name: 'get-ssl', minArgs: 0, maxArgs: 0, options: '', mode: 'RO', pre: preGetSsl, run: getSsl },
  { name: 'del-ssl', minArgs: 0, maxArgs: 0, options: '', mode: 'RW', pre: preSetSsl, run: delSsl },
  { name: 'set-ssl', minArgs: 3, maxArgs: 3, options: '--bootstrap', mode: 'RW', pre: preSetSsl, run: setSsl },
  { name: 'add-aa-mapping', minArgs: 3, maxArgs: 3, options: '', mode: 'RW', pre: preAaMapping, run: addAaMapping },
  { name: 'del-aa-mapping', minArgs: 3, maxArgs: 3, options: '', mode: 'RW', pre: preAaMapping, run: delAaMapping },
  { name: 'get-aa-mapping', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preAaMapping, run: getAaMapping },
  { name: 'emer-reset', minArgs: 0, maxArgs: 0, options: '', mode: 'RW', pre: preEmerReset, run: emerReset },
];
