/**
 * ovs-vswitchd (vswitchd/ovs-vswitchd.c): the daemon that connects the
 * database (through the IDL) to the datapath (through dpif-netlink), runs
 * the bridge layer whenever either changes, and answers `ovs-appctl` on its
 * control socket: ovs-vswitchd's ovs-appctl commands (dpif/show,
 * dpif/show-dp-features, dpctl/*, ofproto/list, memory/show, coverage/show,
 * tnl/ports/show, bridge/reconnect, vlog/*, version, exit [--cleanup],
 * list-commands), and trace/arm + trace/last: the call path of an operation
 * through every layer.
 */
import { rmSync } from 'node:fs';
import { DpifNetlinkProvider, dpctlUnixctlRegister } from '@ovs/dpif-netlink';
import { registerNetdevClasses } from '@ovs/netdev';
import type { SocketFactory } from '@ovs/netlink-socket';
import { TnlPorts, dpifShowBacker, dpifShowSupport } from '@ovs/ofproto';
import { Idl, type VswitchTables } from '@ovs/ovsdb';
import { type Trace, formatTraceTree, renderTraceHtml, traceRecord } from '@ovs/trace';
import { Daemon, UnixctlError, UnixctlServer, Vlog, coverageInit, coverageRun, memoryReport, shashOrder, simapIncrease } from '@ovs/util';
import { BridgeLayer } from './bridge.js';

import { VERSION } from './version.js';

export { VERSION };

export interface VswitchdOptions {
  /** The database: "unix:PATH" or "tcp:HOST:PORT". */
  db: string;
  /** The datapath's netlink sockets: the kernel model's daemon, or the real kernel. */
  socket: SocketFactory;
  /** Control socket path (ovs-appctl's target); none if absent. */
  unixctl?: string;
  /** A pid file written and fcntl-locked as a daemon's (make_pidfile()), so ovs-appctl finds this switch by it. */
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
  /** lib/tnl-ports.c's listening ports (none with the kernel datapath). */
  private readonly tnlPorts = new TnlPorts();
  /** Bridge names in the order their ofprotos were created (all_ofprotos' insertion order). */
  private readonly ofprotoOrder: string[] = [];
  /** ofproto/ofproto.c's all_ofprotos: the names' hmap order, recomputed when the bridges change. */
  private ofprotoList: { key: string; names: string[] } = { key: '', names: [] };
  private coverageTimer: NodeJS.Timeout | undefined;

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
    if (opts.pidfile) {
      // The CLI's Daemon writes its own; this is for a switch run inside another program (tests, embedding).
      const daemon = new Daemon({ program: 'ovs-vswitchd', vlog });
      daemon.settings.pidfile = opts.pidfile;
      await daemon.start();
    }
    vlog.log('INFO', 'vswitchd', `ovs-vswitchd (Open vSwitch in TypeScript) ${VERSION}`);
    idl.onChange(() => d.wake());
    d.wake();
    // coverage_run() from the main loop: the counters' 5-second slots.
    d.coverageTimer = setInterval(() => coverageRun(), 1000);
    d.coverageTimer.unref?.();
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
    this.vlog.registerUnixctl(u);
    u.register('version', '', 0, 0, () => `ovs-vswitchd (Open vSwitch) ${VERSION}\n`);
    // ovs_vswitchd_exit(): --cleanup only as the one argument; anything else is a plain exit.
    u.register('exit', '[--cleanup]', 0, 1, async (args) => {
      const cleanup = args.length === 1 && args[0] === '--cleanup';
      setImmediate(() => void this.stop(cleanup));
      return '';
    });
    coverageInit(u);
    u.register('memory/show', '', 0, 0, async () => {
      await this.settle();
      return this.memoryReport();
    });
    u.register('ofproto/list', '', 0, 0, () =>
      this.ofprotoNames()
        .map((n) => `${n}\n`)
        .join(''),
    );
    u.register('dpif/show-dp-features', 'bridge', 1, 1, async (args) => {
      await this.settle();
      const ofproto = this.bridges.bridges.get(args[args.length - 1]!)?.ofproto;
      if (!ofproto) throw new UnixctlError('no such bridge');
      return `${dpifShowSupport(ofproto.backer.btSupport).join('\n')}\n`;
    });
    u.register('tnl/ports/show', '-v', 0, 1, (args) => this.tnlPorts.show(args));
    u.register('bridge/reconnect', '[bridge]', 0, 1, async (args) => {
      await this.settle();
      // ofproto_reconnect_controllers(): no bridge has a controller connection yet (OpenFlow is not wired in).
      if (args.length > 0 && !this.bridges.bridges.has(args[0]!)) throw new UnixctlError('Unknown bridge');
      return '';
    });
    dpctlUnixctlRegister(
      u,
      async () => {
        await this.settle();
        return { socket: this.opts.socket, provider: this.provider, program: 'ovs-vswitchd', log: this.vlog.fn };
      },
      (text) => new UnixctlError(text),
    );
  }

  /**
   * bridge_get_memory_usage() as memory_report() shows it: "NAME:COUNT" pairs sorted by name.
   * Each bridge's ofproto counts its ports (ofproto_get_memory_usage); the IDL its cells
   * (ovsdb_idl_get_memory_usage: rows times the table's columns, per replicated table). OVS also
   * counts its upcall handler and revalidator threads and its flow rules: this switch has none.
   */
  memoryReport(): string {
    const usage = new Map<string, number>();
    for (const br of this.bridges.bridges.values()) br.ofproto?.getMemoryUsage(usage);
    let cells = 0;
    for (const table of Object.keys(TABLES)) {
      const columns = this.idl.schema.tables.get(table)?.userColumns.length ?? 0;
      cells += [...this.idl.rows(table as keyof VswitchTables & string)].length * columns;
    }
    simapIncrease(usage, `idl-cells-${this.idl.schema.name}`, cells);
    return memoryReport(usage);
  }

  /** HMAP_FOR_EACH over all_ofprotos: the bridges with an ofproto, in OVS's hash order of their names. */
  private ofprotoNames(): string[] {
    const live = new Set([...this.bridges.bridges.values()].filter((b) => b.ofproto).map((b) => b.name));
    for (let i = this.ofprotoOrder.length - 1; i >= 0; i--) if (!live.has(this.ofprotoOrder[i]!)) this.ofprotoOrder.splice(i, 1);
    for (const name of live) if (!this.ofprotoOrder.includes(name)) this.ofprotoOrder.push(name);
    const key = this.ofprotoOrder.join('/');
    if (this.ofprotoList.key !== key) this.ofprotoList = { key, names: shashOrder(this.ofprotoOrder) };
    return this.ofprotoList.names;
  }

  /** Stop: bridges are left in the datapath unless `cleanup` (ovs-appctl exit --cleanup). */
  async stop(cleanup = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.coverageTimer);
    await this.settle();
    await this.bridges.close(cleanup);
    this.idl.close();
    await this.provider.close();
    await this.unixctl.close(this.opts.unixctl);
    if (this.opts.pidfile) rmSync(this.opts.pidfile, { force: true });
    this.resolveExited();
  }
}
