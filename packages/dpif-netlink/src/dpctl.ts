/**
 * ovs-dpctl (lib/dpctl.c, utilities/ovs-dpctl.c): datapath commands with the
 * real tool's syntax, output, error texts, exit codes, and the requests it
 * sends, start-up included (dp_initialize: the routing table, the families,
 * the tunnel probe; every open followed by a port dump, every close too).
 * Devices are @ovs/netdev's, as the real tool's are lib/netdev.c's: its own
 * run registers the vport classes (netdev_initialize), and add-if, set-if
 * and show go through netdev_open/set_config/get_config/get_stats.
 *
 *   add-dp DP [IFACE...]   del-dp DP   dump-dps
 *   add-if DP IFACE[,type=T][,port_no=N][,OPTION=VALUE...]...
 *   set-if DP IFACE[,type=T][,OPTION=VALUE...]...
 *   del-if DP IFACE...     show [-s] [DP...]
 */
import { Errno, strerror } from '@ovs/genl-codec';
import {
  type LogFn,
  type Netdev,
  NetdevConfigError,
  atoi,
  netdevGetConfig,
  netdevGetStats,
  netdevLinuxNetnsidUpdate,
  netdevSetConfig,
  netdevToSpec,
  netdevTurnFlagsOn,
  registerNetdevClasses,
} from '@ovs/netdev';
import { DpifError, type DpifPort, dpifClose, dpifOpen, dpifPortAdd } from './dpif.js';
import type { SocketFactory } from '@ovs/netlink-socket';
import { type DpifNetlink, DpifNetlinkProvider } from './dpif-netlink.js';

export interface DpctlIo {
  out(line: string): void;
  err(line: string): void;
  socket: SocketFactory;
  /** Print `show`/`dump-dps` as JSON. */
  json?: boolean;
  /** The clock for log lines (tests fix it). */
  now?: () => Date;
  /**
   * The process's provider, when ovs-dpctl's commands run inside a daemon
   * (`ovs-appctl dpctl/show`): its netdevs and port map are the daemon's.
   */
  provider?: DpifNetlinkProvider;
}

/** The console format of OVS's vlog: 2026-11-22T03:55:52Z|00001|dpif_netlink|INFO|text. */
function makeLogger(io: DpctlIo): LogFn {
  let seq = 0;
  return (level, module, text) => {
    if (level === 'DBG') return;
    const ts = (io.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    io.err(`${ts}|${String(++seq).padStart(5, '0')}|${module}|${level}|${text}`);
  };
}

/** An error already reported with dpctl_error(): its errno decides the exit status. */
class Reported extends Error {
  constructor(readonly errno: number) {
    super(strerror(errno));
  }
}

/** One ovs-dpctl run: the process-wide provider, made on first use (dp_initialize). */
class Dpctl {
  private providerP: Promise<DpifNetlinkProvider> | undefined;
  readonly log: LogFn;

  constructor(readonly io: DpctlIo) {
    this.log = makeLogger(io);
  }

  /** dpctl_error(): "ovs-dpctl: MESSAGE (strerror)" on stderr. */
  error(errno: number, text: string): Reported {
    this.io.err(`ovs-dpctl: ${text}${errno ? ` (${strerror(errno)})` : ''}`);
    return new Reported(errno || Errno.EINVAL);
  }

  /** The daemon's provider, or this run's own with netdev_initialize()'s vport classes (tunnels, patch) registered. */
  provider(): Promise<DpifNetlinkProvider> {
    this.providerP ??= this.io.provider
      ? Promise.resolve(this.io.provider)
      : DpifNetlinkProvider.create({ socket: this.io.socket, log: this.log }).then((provider) => {
          registerNetdevClasses(provider.netdevs);
          return provider;
        });
    return this.providerP;
  }

  /** parsed_dpif_open(): "[TYPE@]NAME"; only the system (kernel) datapath type is here. */
  async open(arg: string, create: boolean): Promise<DpifNetlink> {
    const at = arg.indexOf('@');
    const name = at < 0 ? arg : arg.slice(at + 1);
    const type = at < 0 ? 'system' : arg.slice(0, at) || 'system';
    if (type !== 'system') {
      this.log('WARN', 'dpif', `could not create datapath ${name} of unknown type ${type}`);
      throw new DpifError(Errno.EAFNOSUPPORT);
    }
    return dpifOpen(await this.provider(), name, create);
  }

  async close(dpif: DpifNetlink): Promise<void> {
    await dpifClose(await this.provider(), dpif);
  }

  async end(): Promise<void> {
    if (this.providerP && !this.io.provider) await (await this.providerP).close();
  }
}

type Handler = (ctx: Dpctl, args: string[], stats: boolean) => Promise<void>;

/** The command table: name, min and max argument counts, handler. */
const COMMANDS: Record<string, [number, number, Handler]> = {
  'add-dp': [1, Infinity, addDp],
  'del-dp': [1, 1, delDp],
  'add-if': [2, Infinity, addIf],
  'set-if': [2, Infinity, setIf],
  'del-if': [2, Infinity, delIf],
  'dump-dps': [0, 0, dumpDps],
  show: [0, Infinity, show],
};

export async function runDpctl(argv: string[], io: DpctlIo): Promise<number> {
  const stats = argv.some((a) => a === '-s' || a === '--statistics');
  const [cmd, ...args] = argv.filter((a) => a !== '-s' && a !== '--statistics');
  if (cmd === undefined) {
    io.err('ovs-dpctl: missing command name; use --help for help');
    return 1;
  }
  const entry = COMMANDS[cmd];
  if (entry === undefined) {
    io.err(`ovs-dpctl: unknown command '${cmd}'; use --help for help`);
    return 1;
  }
  const [min, max, handler] = entry;
  if (args.length < min) {
    io.err(`ovs-dpctl: '${cmd}' command requires at least ${min} arguments`);
    return 1;
  }
  if (args.length > max) {
    io.err(`ovs-dpctl: '${cmd}' command takes at most ${max} arguments`);
    return 1;
  }
  const ctx = new Dpctl(io);
  try {
    await handler(ctx, args, stats);
    return 0;
  } catch (err) {
    if (err instanceof Reported) return 1;
    if (err instanceof DpifError) {
      io.err(`ovs-dpctl: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await ctx.end();
  }
}

/** Open DP or report "opening datapath (ERR)". */
async function openOrReport(ctx: Dpctl, arg: string, create = false, what = 'opening datapath'): Promise<DpifNetlink> {
  try {
    return await ctx.open(arg, create);
  } catch (err) {
    if (err instanceof DpifError) throw ctx.error(err.errno, what);
    throw err;
  }
}

/** Run `each` over the arguments; the last failure decides the status (lasterror). */
async function forEach(args: string[], each: (arg: string) => Promise<void>): Promise<void> {
  let last: Reported | undefined;
  for (const arg of args) {
    try {
      await each(arg);
    } catch (err) {
      if (!(err instanceof Reported)) throw err;
      last = err;
    }
  }
  if (last) throw last;
}

async function addDp(ctx: Dpctl, args: string[]): Promise<void> {
  const dpif = await openOrReport(ctx, args[0]!, true, 'add_dp');
  await ctx.close(dpif);
  if (args.length > 1) await addIf(ctx, args);
}

async function delDp(ctx: Dpctl, args: string[]): Promise<void> {
  const dpif = await openOrReport(ctx, args[0]!);
  try {
    await dpif.destroy();
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
    ctx.log('WARN', 'dpif', `${dpif.fullName}: delete failed (${err.text})`);
    throw ctx.error(err.errno, 'del_dp');
  } finally {
    await ctx.close(dpif);
  }
}

/** "NAME,key=value,..." as strtok_r() splits it (empty fields vanish). */
function splitIface(arg: string): { name: string | undefined; options: Array<[string, string]> } {
  const [name, ...rest] = arg.split(',').filter((f) => f !== '');
  return {
    name,
    options: rest.map((o): [string, string] => {
      const eq = o.indexOf('=');
      return eq < 0 ? [o, ''] : [o.slice(0, eq), o.slice(eq + 1)];
    }),
  };
}

/** Open the datapath (the first argument), run `each` over the other arguments, close: add-if, set-if, del-if. */
async function eachIface(ctx: Dpctl, args: string[], each: (dpif: DpifNetlink, provider: DpifNetlinkProvider, arg: string) => Promise<void>): Promise<void> {
  const dpif = await openOrReport(ctx, args[0]!);
  const provider = await ctx.provider();
  try {
    await forEach(args.slice(1), (arg) => each(dpif, provider, arg));
  } finally {
    await ctx.close(dpif);
  }
}

async function addIf(ctx: Dpctl, args: string[]): Promise<void> {
  const dpArg = args[0]!;
  await eachIface(ctx, args, async (dpif, provider, arg) => {
    const { name, options } = splitIface(arg);
    if (name === undefined) throw ctx.error(0, `${arg} is not a valid network device name`);
    let type = 'system';
    let portNo: number | undefined;
    const config = new Map<string, string>();
    for (const [key, value] of options) {
      if (key === 'type') type = value;
      else if (key === 'port_no') {
        // u32_to_odp(atoi()): -1 is ODPP_NONE, "any".
        const n = atoi(value) >>> 0;
        portNo = n === 0xffffffff ? undefined : n;
      } else if (config.has(key)) ctx.error(0, `duplicate "${key}" option`);
      else config.set(key, value);
    }
    let netdev: Netdev;
    try {
      netdev = await provider.netdevs.open(name, type);
    } catch (err) {
      if (err instanceof DpifError) throw ctx.error(err.errno, `${name}: failed to open network device`);
      throw err;
    }
    try {
      try {
        await netdevSetConfig(provider.netdevs, netdev, Object.fromEntries(config));
      } catch (err) {
        // netdev_set_config() has logged why; the status is its errno, with nothing more printed.
        if (err instanceof NetdevConfigError) throw new Reported(err.errno);
        throw err;
      }
      try {
        await dpifPortAdd(provider, dpif, netdev, netdevToSpec(netdev), portNo);
      } catch (err) {
        if (err instanceof DpifError) throw ctx.error(err.errno, `adding ${name} to ${dpArg} failed`);
        throw err;
      }
      try {
        await netdevLinuxNetnsidUpdate(provider.netdevs, netdev);
        await netdevTurnFlagsOn(provider.netdevs, netdev);
      } catch (err) {
        if (err instanceof DpifError) throw ctx.error(err.errno, `${name}: failed bringing interface up`);
        throw err;
      }
    } finally {
      provider.netdevs.close(netdev);
    }
  });
}

async function setIf(ctx: Dpctl, args: string[]): Promise<void> {
  const dpArg = args[0]!;
  await eachIface(ctx, args, async (dpif, provider, arg) => {
    const { name, options } = splitIface(arg);
    if (name === undefined) {
      ctx.error(0, `${arg} is not a valid network device name`);
      return;
    }
    let port: DpifPort;
    try {
      port = await dpif.portQueryByName(name);
    } catch (err) {
      if (err instanceof DpifError) throw ctx.error(err.errno, `${name}: failed to query port in ${dpArg}`);
      throw err;
    }
    let netdev: Netdev;
    try {
      netdev = await provider.netdevs.open(name, port.type);
    } catch (err) {
      if (err instanceof DpifError) throw ctx.error(err.errno, `${name}: failed to open network device`);
      throw err;
    }
    try {
      const config = new Map(Object.entries(netdevGetConfig(netdev)));
      for (const [key, value] of options) {
        if (key === 'type') {
          if (value !== port.type) throw ctx.error(0, `${name}: can't change type from ${port.type} to ${value}`);
        } else if (key === 'port_no') {
          if (port.portNo !== atoi(value) >>> 0) throw ctx.error(0, `${name}: can't change port number from ${port.portNo} to ${atoi(value)}`);
        } else if (value === '') config.delete(key);
        else config.set(key, value);
      }
      try {
        await netdevSetConfig(provider.netdevs, netdev, Object.fromEntries(config));
      } catch (err) {
        // dpctl_error() with netdev_set_config()'s text (the class's, or "NAME: could not set configuration").
        if (err instanceof NetdevConfigError) throw ctx.error(err.errno, err.message);
        throw err;
      }
    } finally {
      provider.netdevs.close(netdev);
    }
  });
}

async function delIf(ctx: Dpctl, args: string[]): Promise<void> {
  const dpArg = args[0]!;
  await eachIface(ctx, args, async (dpif, _provider, name) => {
    let portNo: number;
    if (/^\d*$/.test(name)) portNo = atoi(name);
    else {
      try {
        portNo = (await dpif.portQueryByName(name)).portNo;
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        ctx.error(0, `no port named ${name}`);
        throw new Reported(Errno.ENOENT);
      }
    }
    try {
      await dpif.portDel(portNo);
    } catch (err) {
      if (!(err instanceof DpifError)) throw err;
      ctx.log('WARN', 'dpif', `${dpif.fullName}: port_del failed (${err.text})`);
      throw ctx.error(err.errno, `deleting port ${name} from ${dpArg} failed`);
    }
  });
}

async function dumpDps(ctx: Dpctl): Promise<void> {
  const names: string[] = [];
  await dpsForEach(ctx, async (dpif) => {
    names.push(dpif.fullName);
  });
  if (ctx.io.json) ctx.io.out(JSON.stringify(names));
  else for (const n of names) ctx.io.out(n);
}

/** dps_for_each(): open every kernel datapath in turn. */
async function dpsForEach(ctx: Dpctl, cb: (dpif: DpifNetlink) => Promise<void>): Promise<void> {
  const provider = await ctx.provider();
  await provider.dpInitialize();
  const names = await provider.enumerate();
  await forEach(names, async (name) => {
    const dpif = await openOrReport(ctx, name, false, `opening datapath ${name} failed`);
    try {
      await cb(dpif);
    } finally {
      await ctx.close(dpif);
    }
  });
}

async function show(ctx: Dpctl, args: string[], stats: boolean): Promise<void> {
  const shown: unknown[] = [];
  const each = async (dpif: DpifNetlink) => {
    shown.push(await showDpif(ctx, dpif, stats));
  };
  try {
    if (args.length === 0) await dpsForEach(ctx, each);
    else {
      await forEach(args, async (arg) => {
        const dpif = await openOrReport(ctx, arg, false, `opening datapath ${arg} failed`);
        try {
          await each(dpif);
        } finally {
          await ctx.close(dpif);
        }
      });
    }
  } finally {
    if (ctx.io.json) ctx.io.out(JSON.stringify(shown, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
  }
}

function stat(v: bigint | undefined): string {
  return v === undefined ? '?' : String(v);
}

/** print_human_size(). */
function humanSize(v: bigint | undefined): string {
  if (v === undefined) return '';
  const n = Number(v);
  const units: Array<[number, string]> = [
    [1024 ** 4, 'TiB'],
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  const u = units.find(([size]) => n >= size);
  return u ? ` (${(n / u[0]).toFixed(1)} ${u[1]})` : '';
}

/** show_dpif(). */
async function showDpif(ctx: Dpctl, dpif: DpifNetlink, withStats: boolean): Promise<unknown> {
  const provider = await ctx.provider();
  const out = (line: string) => {
    if (!ctx.io.json) ctx.io.out(line);
  };
  const json: { name: string; stats?: unknown; masksCacheSize?: number; ports: unknown[] } = { name: dpif.fullName, ports: [] };
  out(`${dpif.fullName}:`);
  try {
    const s = await dpif.getStats();
    json.stats = s;
    out(`  lookups: hit:${s.nHit} missed:${s.nMissed} lost:${s.nLost}`);
    out(`  flows: ${s.nFlows}`);
    if (s.nMasks !== undefined) {
      const pkts = s.nHit + s.nMissed;
      out(`  masks: hit:${s.nMaskHit} total:${s.nMasks} hit/pkt:${(pkts ? Number(s.nMaskHit) / Number(pkts) : 0).toFixed(2)}`);
      if (s.nCacheHit !== undefined) out(`  cache: hit:${s.nCacheHit} hit-rate:${(pkts ? (Number(s.nCacheHit) / Number(pkts)) * 100 : 0).toFixed(2)}%`);
    }
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
  }
  // show_dpif_cache__()
  const levels = await dpif.cacheGetSupportedLevels().catch(() => 0);
  if (levels > 0) {
    out('  caches:');
    for (let i = 0; i < levels; i++) {
      const size = await dpif.cacheGetSize(i).catch(() => undefined);
      if (size === undefined) continue;
      json.masksCacheSize = size;
      out(`    masks-cache: size:${size}`);
    }
  }
  const numbers = (await dpif.portDump()).map((p) => p.portNo).sort((a, b) => a - b);
  for (const n of numbers) {
    let port: DpifPort;
    try {
      port = await dpif.portQueryByNumber(n);
    } catch (err) {
      if (err instanceof DpifError) continue;
      throw err;
    }
    let line = `  port ${port.portNo}: ${port.name}`;
    const entry: Record<string, unknown> = { portNo: port.portNo, name: port.name, type: port.type };
    if (port.type !== 'system') {
      line += ` (${port.type}`;
      try {
        const netdev = await provider.netdevs.open(port.name, port.type);
        const config = netdevGetConfig(netdev);
        provider.netdevs.close(netdev);
        entry.config = config;
        Object.keys(config)
          .sort()
          .forEach((k, j) => {
            line += `${j ? ',' : ':'} ${k}=${config[k]}`;
          });
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        line += `: open failed (${err.text})`;
      }
      line += ')';
    }
    if (withStats) {
      let netdev: Netdev;
      try {
        netdev = await provider.netdevs.open(port.name, port.type);
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        out(`${line}, open failed (${err.text})`);
        continue;
      }
      try {
        const s = await netdevGetStats(provider.netdevs, netdev);
        entry.stats = s;
        out(line);
        out(
          `    RX packets:${stat(s.rxPackets)} errors:${stat(s.rxErrors)} dropped:${stat(s.rxDropped)} overruns:${stat(s.rxOverErrors)} frame:${stat(s.rxFrameErrors)}`,
        );
        out(
          `    TX packets:${stat(s.txPackets)} errors:${stat(s.txErrors)} dropped:${stat(s.txDropped)} aborted:${stat(s.txAbortedErrors)} carrier:${stat(s.txCarrierErrors)}`,
        );
        out(`    collisions:${stat(s.collisions)}`);
        out(`    RX bytes:${stat(s.rxBytes)}${humanSize(s.rxBytes)}  TX bytes:${stat(s.txBytes)}${humanSize(s.txBytes)}`);
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
        out(`${line}, could not retrieve stats (${err.text})`);
      } finally {
        provider.netdevs.close(netdev);
      }
    } else out(line);
    json.ports.push(entry);
  }
  return json;
}
