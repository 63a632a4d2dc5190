/**
 * ovs-vswitchd (vswitchd/ovs-vswitchd.c): the daemon that connects the
 * database (through the IDL) to the datapath (through dpif-netlink), runs
 * the bridge layer whenever either changes, and answers `ovs-appctl` on its
 * control socket (dpif/show, dpctl/show, vlog/list, version, exit, and
 * trace/arm + trace/last: the call path of an operation through every layer).
 */
import { writeFileSync, rmSync } from 'node:fs';
import { DpifNetlinkProvider, runDpctl } from '@ovs/dpif-netlink';
import { registerNetdevClasses } from '@ovs/netdev';
import type { SocketFactory } from '@ovs/netlink-socket';
import { dpifShowBacker } from '@ovs/ofproto';
import { Idl, UnixctlError, UnixctlServer, type VswitchTables } from '@ovs/ovsdb';
import { type Trace, formatTraceTree, renderTraceHtml, traceRecord } from '@ovs/trace';
import { BridgeLayer } from './bridge.js';
import { VERSION } from './version.js';
import { Vlog } from '@ovs/util';

export { VERSION };

export interface VswitchdOptions {
  /** The database: "unix:PATH" or "tcp:HOST:PORT". */
  db: string;
  /** The datapath's netlink sockets: the kernel model's daemon, or the real kernel. */
  socket: SocketFactory;
  /** Control socket path (ovs-appctl's target); none if absent. */
  unixctl?: string;
  pidfile?: string;
  logFile?: string;
  /** How often the datapath and devices are looked at when nothing else wakes the daemon (ms). */
  pollIntervalMs?: number;
  vlog?: Vlog;
}

const TABLES = {
  Open_vSwitch: ['bridges', 'next_cfg', 'cur_cfg', 'ovs_version', 'other_config', 'datapath_types', 'iface_types'],
  Bridge: ['name', 'ports', 'datapath_type', 'other_config', 'datapath_id', 'datapath_version'],
  Port: ['name', 'interfaces'],
  Interface: [
    ...['name', 'type', 'options', 'ofport', 'ofport_request', 'mtu_request', 'mac', 'error'],
    // What the switch writes back: the device's state and statistics (and the columns iface_clear_db_record clears).
    ...['mac_in_use', 'ifindex', 'admin_state', 'link_state', 'link_resets', 'link_speed', 'duplex', 'mtu', 'status', 'statistics'],
    ...['cfm_fault', 'cfm_fault_status', 'cfm_remote_mpids', 'lacp_current'],
  ],
} as const;

export class Vswitchd {
  readonly vlog: Vlog;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Resolves when the daemon has exited (ovs-appctl exit, or stop()). */
  readonly exited: Promise<void>;
  private resolveExited!: () => void;
  /** Armed tracing: bridge runs are recorded until cur_cfg reaches this. */
  private traceUntilCfg: number | undefined;
  /** The last traced run that reconfigured something. */
  private lastTrace: Trace | undefined;

  private constructor(
    readonly opts: VswitchdOptions,
    readonly idl: Idl<VswitchTables>,
    readonly provider: DpifNetlinkProvider,
    readonly bridges: BridgeLayer,
    readonly unixctl: UnixctlServer,
  ) {
    this.vlog = bridges.vlog;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  static async start(opts: VswitchdOptions): Promise<Vswitchd> {
    const vlog = opts.vlog ?? new Vlog({ ...(opts.logFile ? { file: opts.logFile } : {}) });
    const provider = await DpifNetlinkProvider.create({ socket: opts.socket, log: vlog.fn });
    registerNetdevClasses(provider.netdevs);
    const idl = await Idl.open<VswitchTables>({ remote: opts.db, tables: TABLES as unknown as Record<string, readonly string[]> });
    const bridges = new BridgeLayer(idl, provider, vlog);
    const d = new Vswitchd(opts, idl, provider, bridges, new UnixctlServer());
    d.registerCommands();
    if (opts.unixctl) await d.unixctl.listen(opts.unixctl);
    if (opts.pidfile) writeFileSync(opts.pidfile, `${process.pid}\n`);
    vlog.log('INFO', 'vswitchd', `ovs-vswitchd (Open vSwitch in TypeScript) ${VERSION}`);
    idl.onChange(() => d.wake());
    d.wake();
    return d;
  }

  /** Run the bridge layer soon (once, however many wake-ups arrive while it runs). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.runTraced();
        } catch (err) {
          this.vlog.log('ERR', 'vswitchd', `bridge run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      this.schedule();
    });
  }

  /** bridge_run(), recorded when tracing is armed; a run that reconfigured becomes trace/last. */
  private async runTraced(): Promise<void> {
    const until = this.traceUntilCfg;
    if (until === undefined) return this.bridges.run();
    const title = `ovs-vswitchd: bridge_run (next_cfg ${this.idl.first('Open_vSwitch')?.get('next_cfg') ?? 0})`;
    const { node, error } = await traceRecord('bridge', 'bridge_run', undefined, () => this.bridges.run());
    if (node.children.some((c) => c.name === 'bridge_reconfigure')) this.lastTrace = { title, roots: [node] };
    if (this.bridges.curCfg >= until) this.traceUntilCfg = undefined;
    if (error !== undefined) throw error;
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), this.opts.pollIntervalMs ?? 500);
    this.timer.unref?.();
  }

  /** Wait for the bridge layer to be idle (tests, `ovs-appctl` answers that must see the last change). */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  private registerCommands(): void {
    const u = this.unixctl;
    u.register('dpif/show', '', 0, 0, async () => {
      await this.settle();
      const backers = new Set([...this.bridges.bridges.values()].map((b) => b.ofproto?.backer).filter((b) => b !== undefined));
      const lines: string[] = [];
      for (const backer of backers) lines.push(...(await dpifShowBacker(backer, [...this.bridges.bridges.values()].map((b) => b.ofproto!).filter(Boolean))));
      return lines.length ? `${lines.join('\n')}\n` : '';
    });
    u.register('dpctl/show', '[-s] [DP...]', 0, 10, async (args) => {
      await this.settle();
      const out: string[] = [];
      const err: string[] = [];
      const code = await runDpctl(['show', ...args], { out: (l) => out.push(l), err: (l) => err.push(l), socket: this.opts.socket, provider: this.provider });
      if (code !== 0) throw new UnixctlError(err.join('\n').replace(/^ovs-dpctl: /gm, ''));
      return out.length ? `${out.join('\n')}\n` : '';
    });
    u.register('trace/arm', '[CFG]', 0, 1, (args) => {
      const next = this.idl.first('Open_vSwitch')?.get('next_cfg') ?? 0;
      const cfg = args[0] === undefined ? next + 1 : Number(args[0]);
      if (!Number.isSafeInteger(cfg)) throw new UnixctlError(`invalid configuration number "${args[0]}"`);
      this.traceUntilCfg = Math.max(cfg, this.traceUntilCfg ?? 0);
      return '';
    });
    u.register('trace/last', '[--all-lines|--json|--html]', 0, 1, async (args) => {
      await this.settle();
      const trace = this.lastTrace;
      if (trace === undefined)
        throw new UnixctlError('no operation has been traced yet (ovs-vsctl --trace COMMAND..., or ovs-appctl trace/arm, then a change)');
      switch (args[0]) {
        case undefined:
          return `${formatTraceTree(trace)}\n`;
        case '--all-lines':
          return `${formatTraceTree(trace, { lines: 'all' })}\n`;
        case '--json':
          return `${JSON.stringify(trace)}\n`;
        case '--html':
          return renderTraceHtml(trace);
        default:
          throw new UnixctlError(`unknown option "${args[0]}" (--all-lines, --json or --html)`);
      }
    });
    u.register('vlog/list', '', 0, 0, () => `${this.vlog.list()}\n`);
    u.register('version', '', 0, 0, () => `ovs-vswitchd (Open vSwitch in TypeScript) ${VERSION}\n`);
    u.register('exit', '[--cleanup]', 0, 1, async (args) => {
      const cleanup = args[0] === '--cleanup';
      setImmediate(() => void this.stop(cleanup));
      return '';
    });
  }

  /** Stop: bridges are left in the datapath unless `cleanup` (ovs-appctl exit --cleanup). */
  async stop(cleanup = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.settle();
    await this.bridges.close(cleanup);
    this.idl.close();
    await this.provider.close();
    await this.unixctl.close(this.opts.unixctl);
    if (this.opts.pidfile) rmSync(this.opts.pidfile, { force: true });
    this.vlog.log('INFO', 'vswitchd', 'exiting');
    this.resolveExited();
  }
}
