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
import { DpifError, type DpifPort, dpifClose, dpifFlowFlush, dpifOpen, dpifPortAdd } from './dpif.js';
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
  /** The program named in error messages (program_name): ovs-dpctl, or the daemon running the command (ovs-vswitchd). */
  program?: string;
  /** Where the log lines go: the daemon's log inside a daemon; by default stderr in the console format. */
  log?: LogFn;
  /** -m/--more: how many times given (dpctl_params.verbosity). */
  verbosity?: number;
  /** Run by `ovs-appctl dpctl/...` (dpctl_params.is_appctl): list-commands names them so. */
  appctl?: boolean;
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
    this.log = io.log ?? makeLogger(io);
  }

  /** dpctl_error(): "ovs-dpctl: MESSAGE (strerror)" on stderr. */
  error(errno: number, text: string): Reported {
    this.io.err(`${this.io.program ?? 'ovs-dpctl'}: ${text}${errno ? ` (${strerror(errno)})` : ''}`);
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

/** One entry of lib/dpctl.c's all_commands[]: name, usage, argument counts, handler. */
export interface DpctlCommand {
  readonly name: string;
  readonly usage: string;
  readonly min: number;
  readonly max: number;
  readonly handler: Handler;
}

const cmd = (name: string, usage: string, min: number, max: number, handler: Handler): DpctlCommand => ({ name, usage, min, max, handler });

/**
 * all_commands[] of lib/dpctl.c 3.1, in its order (list-commands prints them so). The flow,
 * conntrack and fragmentation commands need a datapath flow table, which neither this switch
 * (it installs no flows) nor the kernel model has: dump-flows lists none and del-flows has
 * none to delete; the others fail with EOPNOTSUPP.
 */
export const DPCTL_COMMANDS: readonly DpctlCommand[] = [
  cmd('add-dp', 'dp [iface...]', 1, Infinity, addDp),
  cmd('del-dp', 'dp', 1, 1, delDp),
  cmd('add-if', 'dp iface...', 2, Infinity, addIf),
  cmd('del-if', 'dp iface...', 2, Infinity, delIf),
  cmd('set-if', 'dp iface...', 2, Infinity, setIf),
  cmd('dump-dps', '', 0, 0, dumpDps),
  cmd('show', '[-s] [dp...]', 0, Infinity, show),
  cmd('dump-flows', '[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]', 0, 6, dumpFlows),
  cmd('add-flow', '[dp] flow actions', 2, 3, unsupported('adding flow')),
  cmd('mod-flow', '[dp] flow actions', 2, 3, unsupported('modifying flow')),
  cmd('get-flow', '[dp] ufid', 1, 2, unsupported('getting flow')),
  cmd('del-flow', '[dp] flow', 1, 2, unsupported('deleting flow')),
  cmd('add-flows', '[dp] file', 1, 2, unsupported('adding flows')),
  cmd('mod-flows', '[dp] file', 1, 2, unsupported('modifying flows')),
  cmd('del-flows', '[dp] [file]', 0, 2, delFlows),
  cmd('offload-stats-show', '[dp]', 0, 1, unsupported('getting offload statistics')),
  cmd('dump-conntrack', '[-m] [-s] [dp] [zone=N]', 0, 4, unsupported('starting conntrack dump')),
  cmd('flush-conntrack', '[dp] [zone=N] [ct-orig-tuple] [ct-reply-tuple]', 0, 4, unsupported('flushing conntrack')),
  cmd('cache-get-size', '[dp]', 0, 1, cacheGetSize),
  cmd('cache-set-size', 'dp cache <size>', 3, 3, unsupported('setting cache size')),
  cmd('ct-stats-show', '[dp] [zone=N]', 0, 3, unsupported('starting conntrack dump')),
  cmd('ct-bkts', '[dp] [gt=N]', 0, 2, unsupported('starting conntrack dump')),
  cmd('ct-set-maxconns', '[dp] maxconns', 1, 2, unsupported('ct_set_maxconns failed')),
  cmd('ct-get-maxconns', '[dp]', 0, 1, unsupported('ct_get_maxconns failed')),
  cmd('ct-get-nconns', '[dp]', 0, 1, unsupported('ct_get_nconns failed')),
  cmd('ct-enable-tcp-seq-chk', '[dp]', 0, 1, unsupported('ct_set_tcp_seq_chk failed')),
  cmd('ct-disable-tcp-seq-chk', '[dp]', 0, 1, unsupported('ct_set_tcp_seq_chk failed')),
  cmd('ct-get-tcp-seq-chk', '[dp]', 0, 1, unsupported('ct_get_tcp_seq_chk failed')),
  cmd('ct-set-limits', '[dp] [default=L] [zone=N,limit=L]...', 1, Infinity, unsupported('failed to set conntrack limit')),
  cmd('ct-del-limits', '[dp] zone=N1[,N2]...', 1, 2, unsupported('failed to delete conntrack limit')),
  cmd('ct-get-limits', '[dp] [zone=N1[,N2]...]', 0, 2, unsupported('failed to get conntrack limit')),
  cmd('ipf-set-enabled', '[dp] v4|v6', 1, 2, unsupported('ipf-set-enabled')),
  cmd('ipf-set-disabled', '[dp] v4|v6', 1, 2, unsupported('ipf-set-disabled')),
  cmd('ipf-set-min-frag', '[dp] v4|v6 minfragment', 2, 3, unsupported('ipf-set-min-frag')),
  cmd('ipf-set-max-nfrags', '[dp] maxfrags', 1, 2, unsupported('ipf-set-max-nfrags')),
  cmd('ipf-get-status', '[dp]', 0, 1, unsupported('ipf-get-status')),
  cmd('list-commands', '', 0, Infinity, listCommands),
  cmd('parse-actions', 'actions', 1, Infinity, unsupported('parse-actions')),
  cmd('normalize-actions', 'actions', 2, Infinity, unsupported('normalize-actions')),
];

const COMMANDS = new Map(DPCTL_COMMANDS.map((c) => [c.name, c]));

export async function runDpctl(argv: string[], io: DpctlIo): Promise<number> {
  const stats = argv.some((a) => a === '-s' || a === '--statistics');
  const [cmd, ...args] = argv.filter((a) => a !== '-s' && a !== '--statistics');
  if (cmd === undefined) {
    io.err('ovs-dpctl: missing command name; use --help for help');
    return 1;
  }
  const entry = COMMANDS.get(cmd);
  if (entry === undefined) {
    io.err(`ovs-dpctl: unknown command '${cmd}'; use --help for help`);
    return 1;
  }
  const { min, max } = entry;
  if (args.length < min) {
    io.err(`ovs-dpctl: '${cmd}' command requires at least ${min} arguments`);
    return 1;
  }
  if (args.length > max) {
    io.err(`ovs-dpctl: '${cmd}' command takes at most ${max} arguments`);
    return 1;
  }
  return dpctlRun(entry, args, stats, io);
}

/** Run one command of the table: 0, or 1 once its error has been printed. */
async function dpctlRun(entry: DpctlCommand, args: string[], stats: boolean, io: DpctlIo): Promise<number> {
  const ctx = new Dpctl(io);
  try {
    await entry.handler(ctx, args, stats);
    return 0;
  } catch (err) {
    if (err instanceof Reported) return 1;
    if (err instanceof DpifError) {
      io.err(`${io.program ?? 'ovs-dpctl'}: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await ctx.end();
  }
}

/** What a daemon gives its dpctl/* commands: its datapath sockets and provider, its name and log. */
export type DpctlUnixctlContext = Omit<DpctlIo, 'out' | 'err' | 'json' | 'appctl' | 'verbosity'>;

/**
 * dpctl_unixctl_handler(): `ovs-appctl dpctl/COMMAND [OPTION...] ARG...` inside a daemon. The
 * leading options are parsed as the C does it (--statistics, --clear, --may-create, --more,
 * --names, --no-names, clusters of -m and -s; anything else is "Unrecognized option"), the
 * command's output and its errors ("ovs-vswitchd: ...") go into one text, which is the reply,
 * or the error reply if the command failed.
 */
export async function dpctlUnixctlHandler(name: string, params: readonly string[], ctx: DpctlUnixctlContext): Promise<{ error: boolean; text: string }> {
  const entry = COMMANDS.get(name);
  if (entry === undefined) return { error: true, text: `unknown command '${name}'` };
  let text = '';
  let stats = false;
  let verbosity = 0;
  let args = [...params];
  let error: string | undefined;
  while (args.length && error === undefined) {
    const arg = args[0]!;
    if (arg.startsWith('--')) {
      if (arg === '--statistics') stats = true;
      else if (arg === '--more') verbosity++;
      else if (!['--clear', '--may-create', '--names', '--no-names'].includes(arg)) error = `Unrecognized option ${arg}`;
    } else if (arg.length > 1 && arg.startsWith('-')) {
      for (const c of arg.slice(1)) {
        if (c === 'm') verbosity++;
        else if (c === 's') stats = true;
        else {
          error = `Unrecognized option -${c}`;
          break;
        }
      }
    } else break;
    if (error === undefined) args = args.slice(1);
  }
  if (error !== undefined) return { error: true, text: error };
  const io: DpctlIo = {
    ...ctx,
    appctl: true,
    verbosity,
    out: (line) => {
      text += `${line}\n`;
    },
    err: (line) => {
      text += `${line}\n`;
    },
  };
  const status = await dpctlRun(entry, args, stats, io);
  return { error: status !== 0, text };
}

/** What dpctl_unixctl_register() needs of a control socket: unixctl_command_register(). */
export interface DpctlUnixctlServer {
  register(name: string, usage: string, min: number, max: number, handler: (args: string[]) => Promise<string>): void;
}

/**
 * dpctl_unixctl_register(): every command of the table but help as `dpctl/NAME`, with its usage
 * and argument counts; `fail` makes the error reply from the command's text.
 */
export function dpctlUnixctlRegister(
  server: DpctlUnixctlServer,
  ctx: () => DpctlUnixctlContext | Promise<DpctlUnixctlContext>,
  fail: (text: string) => Error,
): void {
  for (const c of DPCTL_COMMANDS) {
    server.register(`dpctl/${c.name}`, c.usage, c.min, c.max === Infinity ? Number.MAX_SAFE_INTEGER : c.max, async (args) => {
      const r = await dpctlUnixctlHandler(c.name, args, await ctx());
      if (r.error) throw fail(r.text);
      return r.text;
    });
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

/** dp_exists(): DP names a datapath that exists. */
async function dpExists(ctx: Dpctl, arg: string): Promise<boolean> {
  const at = arg.indexOf('@');
  const type = at < 0 ? 'system' : arg.slice(0, at) || 'system';
  if (type !== 'system') return false;
  const provider = await ctx.provider();
  await provider.dpInitialize();
  return (await provider.enumerate()).includes(at < 0 ? arg : arg.slice(at + 1));
}

/** get_one_dp(): the only datapath, or an error if there are none or several. */
async function getOneDp(ctx: Dpctl): Promise<string | undefined> {
  const provider = await ctx.provider();
  await provider.dpInitialize();
  const names = await provider.enumerate();
  if (names.length === 0) ctx.error(0, 'no datapaths exist');
  else if (names.length > 1) ctx.error(0, 'multiple datapaths, specify one');
  return names.length === 1 ? `system@${names[0]}` : undefined;
}

/**
 * opt_dpif_open(): the datapath named by the first argument if it exists, else the only one
 * (unless all `maxArgs` arguments were given, which leaves no room for it).
 */
async function optDpifOpen(ctx: Dpctl, args: string[], maxArgs: number): Promise<DpifNetlink> {
  let name: string | undefined;
  if (args.length > 0 && (await dpExists(ctx, args[0]!))) name = args[0];
  else if (args.length + 1 !== maxArgs) name = await getOneDp(ctx);
  if (name === undefined) throw ctx.error(Errno.EINVAL, 'datapath not found');
  return openOrReport(ctx, name);
}

/**
 * dpctl_dump_flows(): the datapath's flows. This switch installs none (it has no upcall
 * handling) and the kernel model keeps no flow table, so once the datapath is open there is
 * nothing to list — what the real tool prints for a datapath without flows.
 */
async function dumpFlows(ctx: Dpctl, args: string[]): Promise<void> {
  const dpif = await optDpifOpen(ctx, args, 6);
  await ctx.close(dpif);
}

/** dpctl_del_flows(): dpif_flow_flush() — with no flows installed, nothing to delete; a FILE of flows is refused. */
async function delFlows(ctx: Dpctl, args: string[]): Promise<void> {
  if ((args.length === 1 && !(await dpExists(ctx, args[0]!))) || args.length > 1) throw ctx.error(Errno.EOPNOTSUPP, 'deleting flows from a file');
  const dpif = await optDpifOpen(ctx, args, 2);
  dpifFlowFlush(dpif);
  await ctx.close(dpif);
}

/** dpctl_cache_get_size(): show_dpif_cache() of DP, or of every datapath. */
async function cacheGetSize(ctx: Dpctl, args: string[]): Promise<void> {
  const each = async (dpif: DpifNetlink) => {
    ctx.io.out(`${dpif.fullName}:`);
    const levels = await dpif.cacheGetSupportedLevels().catch(() => 0);
    if (levels === 0) return;
    ctx.io.out('  caches:');
    for (let i = 0; i < levels; i++) {
      const size = await dpif.cacheGetSize(i).catch(() => undefined);
      if (size !== undefined) ctx.io.out(`    masks-cache: size:${size}`);
    }
  };
  if (args.length === 0) return dpsForEach(ctx, each);
  let dpif: DpifNetlink;
  try {
    dpif = await ctx.open(args[0]!, false);
  } catch (err) {
    if (err instanceof DpifError) throw ctx.error(err.errno, `Opening datapath ${args[0]} failed`);
    throw err;
  }
  try {
    await each(dpif);
  } finally {
    await ctx.close(dpif);
  }
}

/** dpctl_list_commands(): the table, each name as `dpctl/NAME` when run through ovs-appctl (help left out there). */
async function listCommands(ctx: Dpctl): Promise<void> {
  const lines = ['The available commands are:'];
  for (const c of DPCTL_COMMANDS) {
    // The C's table has help (usage "") just before list-commands.
    if (c.name === 'list-commands' && !ctx.io.appctl) lines.push(`  ${'help'.padEnd(23)} `);
    lines.push(`  ${ctx.io.appctl ? 'dpctl/' : ''}${c.name.padEnd(23)} ${c.usage}`);
  }
  for (const l of lines) ctx.io.out(l);
}

/** A command that needs the datapath's flow table, conntrack or fragment reassembly: the error the C gives when the datapath lacks it. */
function unsupported(what: string): Handler {
  return async (ctx) => {
    throw ctx.error(Errno.EOPNOTSUPP, what);
  };
}
