/**
 * ovs-vsctl's conntrack zone timeout-policy and datapath-capability commands
 * (utilities/ovs-vsctl.c 3.1: cmd_add_zone_tp, cmd_del_zone_tp,
 * cmd_list_zone_tp, cmd_list_dp_cap), over Open_vSwitch.datapaths →
 * Datapath.ct_zones → CT_Zone.timeout_policy → CT_Timeout_Policy.timeouts.
 * Like the real tool they read the replica without verifying it.
 */
import type { ParsedCommand } from './args.js';
import { atoi } from './commands-bridge.js';
import { type CommandDef, type Ctx, type Prerequisites, fatal } from './context/context.js';
import type { Row } from './context/txn.js';

/** pre_get_zone(). */
function preGetZone(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'datapaths');
  pre.add('Datapath', 'ct_zones');
  pre.add('CT_Zone', 'timeout_policy');
  pre.add('CT_Timeout_Policy', 'timeouts');
}

/** pre_get_dp_cap(). */
function preGetDpCap(_cmd: ParsedCommand, pre: Prerequisites): void {
  pre.add('Open_vSwitch', 'datapaths');
  pre.add('Datapath', 'capabilities');
}

/** find_datapath(): the Datapath row Open_vSwitch.datapaths names DP_NAME. */
function findDatapath(ctx: Ctx, name: string): Row | undefined {
  const d = ctx.txn.read(ctx.ovs, 'datapaths');
  const i = d.keys.indexOf(name);
  return i < 0 ? undefined : ctx.txn.get('Datapath', d.values![i] as string);
}

/** find_ct_zone(). */
function findCtZone(ctx: Ctx, dp: Row, zone: number): Row | undefined {
  const d = ctx.txn.read(dp, 'ct_zones');
  const i = d.keys.indexOf(zone);
  return i < 0 ? undefined : ctx.txn.get('CT_Zone', d.values![i] as string);
}

/**
 * ovs_scan(ARG, "zone=%"SCNi64): a C integer (decimal, 0x hex or 0 octal).
 * When it does not match, the real tool goes on with an uninitialised zone
 * id; here it is 0.
 */
function scanZone(arg: string): number {
  const m = /^zone=[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(arg);
  if (!m) return 0;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? Number.parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === '0' ? Number.parseInt(digits, 8) : Number(digits);
  return m[1] === '-' ? -n : n;
}

/** ofputil_parse_key_value() on one "KEY=VALUE" (or "KEY:VALUE", or a bare KEY with an empty value). */
function parseKeyValue(s: string): [string, string] {
  const m = /^[ \t\r\n,]*([^=:, \t\r\n()]*)[=:]?(.*)$/.exec(s)!;
  return [m[1]!, m[2]!];
}

/** create_timeout_policy(): an existing CT_Timeout_Policy with the same timeouts, else a new one. */
function createTimeoutPolicy(ctx: Ctx, tps: string[]): Row {
  const wanted = new Map<string, number>();
  const keys: string[] = [];
  const values: number[] = [];
  for (const tp of tps) {
    const [key, value] = parseKeyValue(tp);
    keys.push(key);
    values.push(atoi(value));
    wanted.set(key, atoi(value) >>> 0);
  }
  for (const row of ctx.txn.rows('CT_Timeout_Policy')) {
    const d = ctx.txn.read(row, 'timeouts');
    const have = new Map<string, number>();
    d.keys.forEach((k, i) => have.set(k as string, (d.values![i] as number) >>> 0));
    if (have.size === wanted.size && [...wanted].every(([k, v]) => have.get(k) === v)) return row;
  }
  const row = ctx.txn.insert('CT_Timeout_Policy');
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  ctx.txn.write(row, 'timeouts', { keys: order.map((i) => keys[i]!), values: order.map((i) => values[i]!) });
  return row;
}

function addZoneTp(ctx: Ctx): void {
  const dpName = ctx.argv[1]!;
  const zoneId = scanZone(ctx.argv[2]!);
  const dp = findDatapath(ctx, dpName);
  if (!dp) fatal(`datapath ${dpName} does not exist`);
  const tps = ctx.argv.slice(3);
  let zone = findCtZone(ctx, dp!, zoneId);
  if (tps.length <= 0) fatal('No timeout policy');
  if (zone && !ctx.has('--may-exist')) fatal(`zone id ${BigInt.asUintN(64, BigInt(zoneId))} already exists`);
  const tp = createTimeoutPolicy(ctx, tps);
  if (zone) {
    ctx.txn.write(zone, 'timeout_policy', { keys: [tp.uuid] });
  } else {
    zone = ctx.txn.insert('CT_Zone');
    ctx.txn.write(zone, 'timeout_policy', { keys: [tp.uuid] });
    ctx.txn.mutateSet(dp!, 'ct_zones', { keys: [zoneId], values: [zone.uuid] }, { keys: [zoneId] });
  }
}

function delZoneTp(ctx: Ctx): void {
  const dpName = ctx.argv[1]!;
  const zoneId = scanZone(ctx.argv[2]!);
  const dp = findDatapath(ctx, dpName);
  if (!dp) fatal(`datapath ${dpName} does not exist`);
  const zone = findCtZone(ctx, dp!, zoneId);
  if (!ctx.has('--if-exists') && !zone) fatal(`zone id ${BigInt.asUintN(64, BigInt(zoneId))} does not exist`);
  if (zone) ctx.txn.mutateSet(dp!, 'ct_zones', { keys: [], values: [] }, { keys: [zoneId] });
}

function listZoneTp(ctx: Ctx): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) fatal(`datapath: ${ctx.argv[1]} record not found`);
  const zones = ctx.txn.read(dp!, 'ct_zones');
  zones.keys.forEach((k, i) => {
    const zone = ctx.txn.get('CT_Zone', zones.values![i] as string);
    const tpUuid = zone ? (ctx.txn.scalar(zone, 'timeout_policy') as string | undefined) : undefined;
    const tp = tpUuid ? ctx.txn.get('CT_Timeout_Policy', tpUuid) : undefined;
    let policies = 'system default';
    if (tp) {
      const t = ctx.txn.read(tp, 'timeouts');
      policies = t.keys.map((key, j) => `${key}=${BigInt.asUintN(64, BigInt(t.values![j] as number))}`).join(' ');
    }
    ctx.out(`Zone:${BigInt.asUintN(64, BigInt(k as number))}, Timeout Policies: ${policies}\n`);
  });
}

function listDpCap(ctx: Ctx): void {
  const dp = findDatapath(ctx, ctx.argv[1]!);
  if (!dp) fatal(`datapath "${ctx.argv[1]}" record not found`);
  const caps = ctx.txn.read(dp!, 'capabilities');
  ctx.out(`${caps.keys.map((k, i) => `${k}=${caps.values![i]}`).join(' ')}\n`);
}

export const zoneCommands: CommandDef[] = [
  { name: 'add-zone-tp', minArgs: 3, maxArgs: Infinity, options: '--may-exist', mode: 'RW', pre: preGetZone, run: addZoneTp },
  { name: 'del-zone-tp', minArgs: 2, maxArgs: 2, options: '--if-exists', mode: 'RW', pre: preGetZone, run: delZoneTp },
  { name: 'list-zone-tp', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetZone, run: listZoneTp },
  { name: 'list-dp-cap', minArgs: 1, maxArgs: 1, options: '', mode: 'RO', pre: preGetDpCap, run: listDpCap },
];
