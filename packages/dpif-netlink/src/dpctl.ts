/**
 * ovs-dpctl (lib/dpctl.c, utilities/ovs-dpctl.c): datapath commands with the
 * real tool's syntax, output, error texts and exit codes.
 *
 *   add-dp DP [IFACE...]   del-dp DP   dump-dps
 *   add-if DP IFACE[,type=T][,port_no=N][,OPTION=VALUE...]...
 *   set-if DP IFACE[,type=T][,OPTION=VALUE...]...
 *   del-if DP IFACE...     show [-s] [DP...]
 */
import { Errno, NLM_F, NetlinkProtocol, OVS_DP_CMD, RTM, type GenlMessage, ovsDatapathFamily, strerror, newFamilyTable, type OvsDatapathAttrs } from '@ovs/genl-codec';
import type { DpifPort } from './dpif.js';
import { DpifNetlink, type LogFn, type SocketFactory, lookupFamilies } from './dpif-netlink.js';
import { DpifError, NlSock } from './nl-sock.js';

export interface DpctlIo {
  out(line: string): void;
  err(line: string): void;
  socket: SocketFactory;
  /** Print `show`/`dump-dps` as JSON. */
  json?: boolean;
  /** The clock for log lines (tests fix it). */
  now?: () => Date;
}

class DpctlError extends Error {}

/** The console format of OVS's vlog: 2026-11-22T03:55:52Z|00001|dpif_netlink|INFO|text. */
function makeLogger(io: DpctlIo): LogFn {
  let seq = 0;
  return (level, module, text) => {
    const ts = (io.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    io.err(`${ts}|${String(++seq).padStart(5, '0')}|${module}|${level}|${text}`);
  };
}

/** "system@dp0" or "dp0" -> "dp0". */
function dpName(arg: string): string {
  const at = arg.indexOf('@');
  return at < 0 ? arg : arg.slice(at + 1);
}

/** "veth0,type=internal,port_no=7,remote_ip=..." */
function parseIface(arg: string): { name: string; type: string; portNo?: number; options: Record<string, string> } {
  const [name = '', ...rest] = arg.split(',');
  const out: { name: string; type: string; portNo?: number; options: Record<string, string> } = { name, type: 'system', options: {} };
  for (const kv of rest) {
    const eq = kv.indexOf('=');
    if (eq < 0) throw new DpctlError(`${kv}: option missing '=' in ${arg}`);
    const k = kv.slice(0, eq);
    const v = kv.slice(eq + 1);
    if (k === 'type') out.type = v;
    else if (k === 'port_no') {
      if (!/^\d+$/.test(v)) throw new DpctlError(`bad port number ${v}`);
      out.portNo = Number(v);
    } else out.options[k] = v;
  }
  return out;
}

function fail(errno: number, text: string): never {
  throw new DpctlError(`${text} (${strerror(errno)})`);
}

export async function runDpctl(argv: string[], io: DpctlIo): Promise<number> {
  const log = makeLogger(io);
  const opts = { socket: io.socket, log };
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case 'add-dp': {
        if (args.length < 1) throw new DpctlError("'add-dp' command requires at least 1 arguments");
        const name = dpName(args[0]!);
        let dpif: DpifNetlink;
        try {
          dpif = await DpifNetlink.open(name, opts, true);
        } catch (err) {
          if (err instanceof DpifError) fail(err.errno, 'add_dp');
          throw err;
        }
        try {
          for (const iface of args.slice(1)) await addIf(dpif, iface, io, log);
        } finally {
          await dpif.close();
        }
        return 0;
      }
      case 'del-dp': {
        if (args.length !== 1) throw new DpctlError("'del-dp' command requires at least 1 arguments");
        const dpif = await openOrFail(dpName(args[0]!), opts, 'opening datapath');
        try {
          await dpif.destroy();
        } catch (err) {
          if (err instanceof DpifError) fail(err.errno, 'del_dp');
          throw err;
        } finally {
          await dpif.close();
        }
        return 0;
      }
      case 'add-if':
      case 'set-if':
      case 'del-if': {
        if (args.length < 2) throw new DpctlError(`'${cmd}' command requires at least 2 arguments`);
        const dpif = await openOrFail(dpName(args[0]!), opts, 'opening datapath');
        let status = 0;
        try {
          for (const iface of args.slice(1)) {
            try {
              if (cmd === 'add-if') await addIf(dpif, iface, io, log);
              else if (cmd === 'set-if') await setIf(dpif, iface);
              else await delIf(dpif, iface);
            } catch (err) {
              if (!(err instanceof DpctlError)) throw err;
              io.err(`ovs-dpctl: ${err.message}`);
              status = 1;
            }
          }
        } finally {
          await dpif.close();
        }
        return status;
      }
      case 'dump-dps': {
        const names = await datapathNames(io.socket);
        if (io.json) io.out(JSON.stringify(names.map((n) => `system@${n}`)));
        else for (const n of names) io.out(`system@${n}`);
        return 0;
      }
      case 'show': {
        const stats = args[0] === '-s' || args[0] === '--statistics';
        const names = stats ? args.slice(1) : args;
        const list = names.length ? names.map(dpName) : await datapathNames(io.socket);
        const all: unknown[] = [];
        for (const name of list) {
          const dpif = await openOrFail(name, opts, `opening datapath ${name} failed`);
          try {
            const shown = await show(dpif, stats, io);
            all.push(shown);
          } finally {
            await dpif.close();
          }
        }
        if (io.json) io.out(JSON.stringify(all));
        return 0;
      }
      default:
        throw new DpctlError(cmd ? `unknown command '${cmd}'; use --help for help` : 'missing command name; use --help for help');
    }
  } catch (err) {
    if (err instanceof DpctlError) {
      io.err(`ovs-dpctl: ${err.message}`);
      return 1;
    }
    if (err instanceof DpifError) {
      io.err(`ovs-dpctl: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function openOrFail(name: string, opts: { socket: SocketFactory; log: LogFn }, what: string): Promise<DpifNetlink> {
  try {
    return await DpifNetlink.open(name, opts, false);
  } catch (err) {
    if (err instanceof DpifError) fail(err.errno, what);
    throw err;
  }
}

/** netdev_open() of a system/tap device: it must exist (RTM_GETLINK by name). */
async function netdevExists(socket: SocketFactory, name: string): Promise<number> {
  const raw = await socket(NetlinkProtocol.NETLINK_ROUTE);
  const sock = new NlSock(raw, newFamilyTable());
  try {
    await sock.transact({
      kind: 'rtnl',
      protocol: NetlinkProtocol.NETLINK_ROUTE,
      header: { len: 0, type: RTM.GETLINK, flags: NLM_F.REQUEST, seq: 0, pid: 0 },
      family: 'link',
      ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 },
      attrs: { ifname: name },
    });
    return 0;
  } catch (err) {
    if (err instanceof DpifError) return err.errno;
    throw err;
  } finally {
    await raw.close();
  }
}

async function addIf(dpif: DpifNetlink, arg: string, io: DpctlIo, log: LogFn): Promise<void> {
  const iface = parseIface(arg);
  if (iface.type === 'system' || iface.type === 'tap') {
    const err = await netdevExists(io.socket, iface.name);
    if (err) fail(err, `${iface.name}: failed to open network device`);
  }
  const dstPort = iface.options.dst_port !== undefined ? Number(iface.options.dst_port) : undefined;
  try {
    await dpif.portAdd({ name: iface.name, type: iface.type, ...(dstPort !== undefined ? { tunnel: { dstPort } } : {}) }, iface.portNo);
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
    // dpif_port_add() logs the failure, then dpctl reports it.
    log('WARN', 'dpif', `${dpif.fullName}: failed to add ${iface.name} as port: ${err.text}`);
    fail(err.errno, `adding ${iface.name} to ${dpif.name} failed`);
  }
}

async function setIf(dpif: DpifNetlink, arg: string): Promise<void> {
  const iface = parseIface(arg);
  let port: DpifPort;
  try {
    port = await dpif.portQueryByName(iface.name);
  } catch {
    throw new DpctlError(`${dpif.name}: unknown port ${iface.name}`);
  }
  if (iface.type !== port.type && !(iface.type === 'system' && port.type === 'system')) {
    throw new DpctlError(`${iface.name}: can't change type from ${port.type} to ${iface.type}`);
  }
}

async function delIf(dpif: DpifNetlink, name: string): Promise<void> {
  let port: DpifPort;
  try {
    port = await dpif.portQueryByName(name);
  } catch (err) {
    if (err instanceof DpifError && err.errno === Errno.ENODEV) throw new DpctlError(`no port named ${name}`);
    throw err;
  }
  try {
    await dpif.portDel(port.portNo);
  } catch (err) {
    if (err instanceof DpifError) fail(err.errno, `deleting port ${name} from ${dpif.name} failed`);
    throw err;
  }
}

/** dpif_netlink_enumerate(): the datapaths, by an OVS_DP_CMD_GET dump. */
async function datapathNames(socket: SocketFactory): Promise<string[]> {
  const raw = await socket(NetlinkProtocol.NETLINK_GENERIC);
  const sock = new NlSock(raw, newFamilyTable());
  try {
    const fams = await lookupFamilies(sock);
    const msgs = await sock.transact({
      kind: 'genl',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: fams.table.id('ovs_datapath')!, flags: NLM_F.REQUEST | NLM_F.ECHO | NLM_F.DUMP, seq: 0, pid: 0 },
      family: ovsDatapathFamily,
      cmd: OVS_DP_CMD.GET,
      version: ovsDatapathFamily.version,
      reserved: 0,
      dpIfindex: 0,
      attrs: {},
    });
    return msgs.map((m) => ((m as GenlMessage).attrs as OvsDatapathAttrs).name ?? '');
  } finally {
    await raw.close();
  }
}

/** show_dpif(). */
async function show(dpif: DpifNetlink, withStats: boolean, io: DpctlIo): Promise<unknown> {
  const s = await dpif.getStats();
  const ports = (await dpif.portDump()).sort((a, b) => a.portNo - b.portNo);
  if (io.json) return { name: dpif.fullName, stats: { hit: Number(s.nHit), missed: Number(s.nMissed), lost: Number(s.nLost), flows: Number(s.nFlows) }, ports };
  io.out(`${dpif.fullName}:`);
  io.out(`  lookups: hit:${s.nHit} missed:${s.nMissed} lost:${s.nLost}`);
  io.out(`  flows: ${s.nFlows}`);
  const total = s.nHit + s.nMissed;
  const perPkt = total > 0n ? Number(s.nMaskHit) / Number(total) : 0;
  io.out(`  masks: hit:${s.nMaskHit} total:${s.nMasks} hit/pkt:${perPkt.toFixed(2)}`);
  if (s.masksCacheSize !== undefined) {
    io.out('  caches:');
    io.out(`    masks-cache: size:${s.masksCacheSize}`);
  }
  for (const p of ports) {
    io.out(`  port ${p.portNo}: ${p.name}${p.type === 'system' ? '' : ` (${p.type})`}`);
    if (withStats && p.stats) {
      const t = p.stats;
      io.out(`    RX packets:${t.rxPackets} errors:${t.rxErrors} dropped:${t.rxDropped} overruns:0 frame:0`);
      io.out(`    TX packets:${t.txPackets} errors:${t.txErrors} dropped:${t.txDropped} aborted:0 carrier:0`);
      io.out('    collisions:0');
      io.out(`    RX bytes:${t.rxBytes}  TX bytes:${t.txBytes}`);
    }
  }
  return undefined;
}
