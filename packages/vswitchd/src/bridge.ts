/**
 * vswitchd/bridge.c: the database drives bridges, bridges drive ofproto.
 *
 * bridge_run() reconfigures when the database's configuration changed:
 * bridges are added and deleted (add_del_bridges), each bridge's wanted
 * ports collected and the others deleted, missing ofprotos created, and
 * the missing interfaces created (iface_create / iface_do_create: netdev
 * open, netdev configuration, ofproto_port_add) — first those asking for an
 * OpenFlow port number, then the others, in OVS's hash order. Results go
 * back to the database: Interface.ofport (-1 on failure), Interface.error
 * with OVS's texts, the device's state, and Open_vSwitch.cur_cfg.
 *
 * Unlike OVS, which walks every port of every bridge on each change, a
 * reconfiguration here looks only at the rows that changed (and at the
 * interfaces that failed, which OVS retries every time): changing one port
 * of a bridge of 10,000 touches that port alone.
 */
import type { DpifNetlinkProvider } from '@ovs/dpif-netlink';
import {
  LinkWatcher,
  type Netdev,
  NetdevConfigError,
  netdevGetEtheraddr,
  netdevMtuUserConfig,
  netdevSetConfig,
  netdevSetEtheraddr,
  netdevSetMtu,
  netdevVportPatchPeer,
  parseMac,
} from '@ovs/netdev';
import { type IfaceHint, OFPP_LOCAL, OFPP_MAX, OFPP_NONE, Ofproto, type OfprotoEnv } from '@ovs/ofproto';
import type { Idl, IdlRow, Uuid, VswitchTables } from '@ovs/ovsdb';
import { Errno, NetlinkErrnoError, type NetlinkSocket, NetlinkProtocol, RTM, RTNLGRP_LINK, decode, newFamilyTable, strerror } from '@ovs/genl-codec';
import { span } from '@ovs/trace';
import {
  DATAPATH_TYPES,
  IFACE_TYPES,
  bridgeDefaultEa,
  bridgePickDatapathId,
  bridgePickLocalHwAddr,
  compareMac,
  ethAddrUsableAsBridgeMac,
  ifaceClearDbRecord,
  ifaceRefreshNetdevStatus,
  ifaceRefreshStats,
  statsUpdateInterval,
} from './bridge-status.js';

import { type Vlog, coverageDefine, shashOrder } from '@ovs/util';

/** vswitchd/bridge.c's COVERAGE_DEFINE(bridge_reconfigure). */
const COVERAGE_BRIDGE_RECONFIGURE = coverageDefine('bridge_reconfigure');

type Row<K extends keyof VswitchTables> = IdlRow<VswitchTables[K]>;

export interface Iface {
  readonly name: string;
  type: string;
  ofpPort: number;
  netdev: Netdev;
  cfg: Uuid;
  port: Port;
  /** The options and request the interface was made with (to see what changed). */
  optionsKey: string;
  request: number | undefined;
  /** netdev_get_change_seq() when its status was last written (0: never). */
  changeSeq: number;
  /** The ifindex its status last reported (a renamed device is found by it). */
  ifindex: number;
  /** The mtu_request and mac applied last (iface_set_netdev_mtu, iface_set_mac). */
  mtuRequest: number | null;
  mac: string | null;
}

export interface Port {
  readonly name: string;
  cfg: Uuid;
  readonly ifaces: Map<string, Iface>;
}

export class Bridge {
  ofproto: Ofproto | undefined;
  readonly ports = new Map<string, Port>();
  readonly ifaceByName = new Map<string, Iface>();
  /** Interfaces that could not be made: retried on every reconfiguration, as OVS does. */
  readonly failed = new Map<string, { port: Uuid; iface: Uuid; key: string }>();
  /** The Bridge row's port set when last looked at. */
  portUuids = new Set<Uuid>();
  /** Ports and interfaces by their database rows. */
  readonly portByCfg = new Map<Uuid, Port>();
  readonly ifaceByCfg = new Map<Uuid, Iface>();
  /** Not configured yet: its first reconfiguration looks at every port. */
  fresh = true;
  /**
   * find_local_hw_addr()'s candidates: the ports' usable (universal
   * unicast) MACs by interface name, and the least of them, kept as ports
   * come, go and change so that picking the bridge MAC does not walk them.
   */
  readonly portMacs = new Map<string, Uint8Array>();
  leastMac: { name: string; mac: Uint8Array } | undefined;
  /** The bridge MAC and datapath ID in effect (bridge_configure_datapath_id). */
  ea: Uint8Array | undefined;
  datapathId: string | undefined;
  /** Bridge.datapath_version written (br_refresh_datapath_info). */
  datapathVersionWritten = false;

  constructor(
    readonly name: string,
    readonly type: string,
    public cfg: Uuid,
  ) {}
}

/** What one reconfiguration wants written back to the database. */
interface StatusUpdate {
  ofport: number;
  error: string | null;
  netdev?: Netdev;
}

/** ofproto_normalize_type(): "" is "system". */
const normalizeType = (t: string): string => t || 'system';

export class BridgeLayer {
  /** all_bridges. */
  readonly bridges = new Map<string, Bridge>();
  private seqno = -1;
  private nextCfg = -1;

  /** The configuration the last run brought the switch to (what it writes as cur_cfg). */
  get curCfg(): number {
    return this.nextCfg;
  }
  /** Open_vSwitch.bridges when last reconfigured. */
  private bridgesKey = '';
  /** Rows that changed since the last reconfiguration (from the IDL). */
  private dirty = new Set<Uuid>();
  /** The changed rows the current reconfiguration applies. */
  private applying = new Set<Uuid>();
  private full = true;
  private readonly status = new Map<Uuid, StatusUpdate>();
  private readonly env: OfprotoEnv;
  /** netdev_linux_run()'s notifier: keeps Linux netdevs' caches and change sequence numbers current. */
  private linkWatcher: LinkWatcher | undefined;
  /**
   * Interfaces whose netdev may have changed since their status was
   * written: run_status_update() looks at these only (OVS walks every
   * interface and skips those whose change_seq did not move).
   */
  private readonly statusDirty = new Set<Iface>();
  /** Bridge columns to write (datapath_id, datapath_version), by Bridge row. */
  private readonly bridgeStatus = new Map<Uuid, Partial<VswitchTables['Bridge']>>();
  /** run_stats_update(): when statistics are next due, and the interval in force. */
  private statsTimer = -Infinity;
  private statsInterval = 0;
  /** Interfaces by the ifindex of their device, and what the if_notifier reported since the last reconfiguration. */
  private readonly ifaceByIfindex = new Map<number, Iface>();
  private readonly linksChanged = new Set<string>();
  private linksOverrun = false;
  /** A link went away (RTM_DELLINK): ports may have vanished from the datapath with it (del-dp takes every device of the datapath). */
  private linksDeleted = false;
  private readonly rtnlFamilies = newFamilyTable();
  /** The patch interfaces and their bridges (iface_refresh_ofproto_status looks at them). */
  private readonly patchIfaces = new Map<Iface, Bridge>();
  /** This run reconfigured / a link notification changed a netdev (OVS: the connectivity sequence moved). */
  private reconfigured = false;
  private linkChanged = false;
  /** Patch interfaces made by this run. */
  private freshPatches = new Set<Iface>();
  /** Milliseconds now (stats timer); tests may pass their own clock. */
  now: () => number = () => Date.now();

  constructor(
    readonly idl: Idl<VswitchTables>,
    readonly provider: DpifNetlinkProvider,
    readonly vlog: Vlog,
  ) {
    this.env = { provider, log: vlog.fn };
    idl.onChange((_seqno, changes) => {
      for (const c of changes) this.dirty.add(c.uuid);
    });
  }

  private log(level: 'INFO' | 'WARN' | 'ERR', text: string): void {
    this.vlog.log(level, 'bridge', text);
  }

  /**
   * if_notifier: an rtnetlink socket in RTNLGRP_LINK. Any link appearing,
   * changing or going is a reason to reconfigure (a device an interface
   * waited for may exist now), as in OVS.
   */
  private ifNotifier: NetlinkSocket | undefined;

  private async ifNotifierChanged(): Promise<boolean> {
    if (this.ifNotifier === undefined) {
      this.ifNotifier = await this.provider.opts.socket(NetlinkProtocol.NETLINK_ROUTE);
      await this.ifNotifier.joinGroup(RTNLGRP_LINK);
      return false;
    }
    let changed = false;
    for (;;) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = this.ifNotifier.tryRecv?.();
        if (datagram === undefined) return changed;
      } catch {
        // ENOBUFS: some were lost; that too means "something changed", and anything may have.
        this.linksOverrun = true;
      }
      changed = true;
      if (datagram !== undefined) this.noteLinks(datagram);
    }
  }

  /** The devices a link notification is about: its name, and the interface that had its ifindex (renamed devices). */
  private noteLinks(datagram: Uint8Array): void {
    const r = decode(datagram, { protocol: NetlinkProtocol.NETLINK_ROUTE, families: this.rtnlFamilies });
    if (!r.ok) return;
    for (const m of r.messages) {
      if (m.kind !== 'rtnl' || m.family !== 'link' || (m.header.type !== RTM.NEWLINK && m.header.type !== RTM.DELLINK)) continue;
      if (m.attrs.ifname !== undefined) this.linksChanged.add(m.attrs.ifname);
      if (m.header.type === RTM.DELLINK) this.linksDeleted = true;
      const known = this.ifaceByIfindex.get(m.ifinfomsg.index);
      if (known) this.linksChanged.add(known.name);
    }
  }

  /** netdev_run(): the LinkWatcher takes in the link notifications; interfaces whose netdev changed get their status refreshed. */
  private async netdevRun(): Promise<void> {
    if (this.linkWatcher === undefined) {
      this.linkWatcher = await LinkWatcher.open(this.provider.netdevs, await this.provider.opts.socket(NetlinkProtocol.NETLINK_ROUTE));
      return;
    }
    for (const dev of await this.linkWatcher.run()) {
      for (const br of this.bridges.values()) {
        const iface = br.ifaceByName.get(dev.name);
        if (iface === undefined || iface.netdev !== dev) continue;
        this.statusDirty.add(iface);
        this.linkChanged = true;
        // What ofproto_run's change_seq walk finds: update_port() for it (its MTU, for one).
        br.ofproto?.portChanged(dev.name);
      }
    }
  }

  /** bridge_run(): reconfigure if the configuration (or the set of links) changed, then let every datapath type and bridge run. */
  async run(): Promise<void> {
    // The replica goes on changing while this run awaits the datapath (OVS's
    // single-threaded loop never sees that): what the run applies is the
    // configuration as of now, so cur_cfg reports this next_cfg, and rows
    // changing from here on stay dirty for the next run.
    const ovs = this.idl.first('Open_vSwitch');
    const nextCfg = ovs?.get('next_cfg') ?? 0;
    const ifacesChanged = await this.ifNotifierChanged();
    await this.netdevRun();
    if (this.idl.seqno !== this.seqno || ifacesChanged) {
      this.seqno = this.idl.seqno;
      const reconfigure = this.full || ifacesChanged || nextCfg !== this.nextCfg || this.configChanged();
      // The rows this run applies; those changing from here on are the next run's.
      this.applying = this.dirty;
      this.dirty = new Set();
      // The sweep walks the bridges' ports: only when a link went or notifications were lost, not for every new device.
      const sweep = this.linksDeleted || this.linksOverrun;
      this.linksDeleted = false;
      if (reconfigure) await this.reconfigure(ovs, sweep);
      this.reconfigured ||= reconfigure;
      this.nextCfg = nextCfg;
    }
    await this.bridgeRunInner();
    await this.writeStatus(ovs, this.nextCfg);
    await this.runStatsUpdate(ovs);
  }

  /** Did any row that changed carry configuration (not just the status vswitchd itself writes)? */
  private configChanged(): boolean {
    for (const uuid of this.dirty) {
      if (this.idl.get('Bridge', uuid) || this.idl.get('Port', uuid)) return true;
      const ovs = this.idl.get('Open_vSwitch', uuid);
      if (ovs) {
        // Its cur_cfg is ours to write; its bridges are configuration.
        if (ovs.get('bridges').join(',') !== this.bridgesKey) return true;
        continue;
      }
      const iface = this.idl.get('Interface', uuid);
      if (iface === undefined) return true; // deleted rows, the Open_vSwitch row
      const name = iface.get('name');
      const known = this.findIface(name);
      const isLocal = this.bridges.has(name);
      if (known) {
        if (known.cfg !== uuid || madeKey(known) !== wantKey(iface, isLocal)) return true;
        if (known.mtuRequest !== iface.get('mtu_request') || known.mac !== iface.get('mac')) return true;
        continue;
      }
      // A failed interface's own status, written by us, is no reason; a change to what it asks for is.
      const failed = [...this.bridges.values()].map((b) => b.failed.get(name)).find((f) => f !== undefined);
      if (!failed || failed.iface !== uuid || failed.key !== wantKey(iface, isLocal)) return true;
    }
    return false;
  }

  private findIface(name: string): Iface | undefined {
    for (const br of this.bridges.values()) {
      const i = br.ifaceByName.get(name);
      if (i) return i;
    }
    return undefined;
  }

  /**
   * bridge_reconfigure(). `sweep`: a link went away (or link notifications
   * were lost), so ports may have vanished under the bridge (OVS sweeps on
   * every reconfiguration; this layer works from the rows that changed, and
   * only a link going away can take a port with it).
   */
  private reconfigure(ovs: Row<'Open_vSwitch'> | undefined, sweep: boolean): Promise<void> {
    return span('bridge', 'bridge_reconfigure', `next_cfg ${ovs?.get('next_cfg') ?? 0}`, async () => {
      COVERAGE_BRIDGE_RECONFIGURE.inc();
      const full = this.full;
      this.full = false;
      // At start-up the datapath may hold ports from an earlier run: those the database still configures are kept.
      if (full) this.env.ifaceHints = this.ifaceHints(ovs);
      await this.addDelBridges(ovs);
      const deferred: Array<() => Promise<void>> = [];
      await this.ifacesVanished();
      const wanted = new Map<Bridge, { all: Row<'Port'>[]; examine: Map<string, Row<'Port'>> }>();
      for (const br of this.bridges.values()) {
        if (sweep) await this.sweepVanished(br);
        const brRow = this.idl.get('Bridge', br.cfg)!;
        const { examine, removed } = this.portsToExamine(br, brRow, full || br.fresh);
        br.fresh = false;
        if (examine.size === 0 && removed.length === 0) continue;
        const all = [...br.portUuids].map((u) => this.idl.get('Port', u)).filter((r) => r !== undefined);
        wanted.set(br, { all, examine });
        await this.delPorts(br, examine, removed, deferred);
      }
      for (const br of this.bridges.values()) {
        if (br.ofproto) continue;
        try {
          br.ofproto = await span('ofproto', 'ofproto_create', `${br.name} (${br.type})`, () => Ofproto.create(this.env, br.name, br.type));
        } catch (err) {
          this.log('ERR', `failed to create bridge ${br.name}: ${errText(err)}`);
          this.bridges.delete(br.name);
        }
      }
      for (const [br, { all, examine }] of wanted) {
        if (!this.bridges.has(br.name)) continue;
        await span('bridge', 'bridge_add_ports', br.name, async () => {
          await this.addPorts(br, all, examine, true);
          await this.addPorts(br, all, examine, false);
        });
      }
      // What OVS does in ofproto_run at the end of the reconfiguration: ghost ports whose netdev was removed go now.
      for (const d of deferred) await d();
      for (const br of this.bridges.values()) await this.bridgeConfigureDatapathId(br);
      if (ovs && (ovs.get('datapath_types').join() !== DATAPATH_TYPES.join() || ovs.get('iface_types').join() !== IFACE_TYPES.join())) this.typesPending = true;
    });
  }

  /** discover_types() wants writing (with the next status). */
  private typesPending = false;

  /**
   * What bridge_delete_or_reconfigure_ports() does for every port, for
   * those the link notifications were about: a requested MTU is set again
   * (iface_set_netdev_mtu), and a system interface whose device the
   * datapath no longer has under its name (renamed, or gone) "disappeared
   * underneath us" and is destroyed, to be made again — or fail with OVS's
   * error — by this reconfiguration.
   */
  private async ifacesVanished(): Promise<void> {
    const names = this.linksOverrun ? undefined : [...this.linksChanged];
    this.linksChanged.clear();
    this.linksOverrun = false;
    for (const br of this.bridges.values()) {
      if (!br.ofproto) continue;
      const ifaces = names === undefined ? [...br.ifaceByName.values()] : names.map((n) => br.ifaceByName.get(n)).filter((i) => i !== undefined);
      for (const iface of ifaces) {
        const cfg = this.idl.get('Interface', iface.cfg);
        try {
          if (iface.type === 'system') await br.ofproto.portQueryByName(iface.name);
          if (cfg && iface.mtuRequest !== null) await this.ifaceSetNetdevMtu(cfg, iface.netdev);
          continue;
        } catch (err) {
          if (!(err instanceof NetlinkErrnoError) || err.errno !== Errno.ENODEV) throw err;
        }
        // iface_destroy__(): logged and forgotten, its netdev let go (netdev_remove: a new open asks the kernel again);
        // the ofport goes as ofproto_run's update_port() finds the datapath without it.
        this.log('INFO', `bridge ${br.name}: deleted interface ${iface.name} on port ${iface.ofpPort}`);
        this.forget(br, iface);
        this.provider.netdevs.remove(iface.netdev);
        br.failed.set(iface.name, { port: iface.port.cfg, iface: iface.cfg, key: madeKey(iface) });
        await br.ofproto.updatePort(iface.name);
      }
    }
  }

  /** bridge_init_ofproto(): every configured interface with its bridge and the number iface_pick_ofport() gives it. */
  private ifaceHints(ovs: Row<'Open_vSwitch'> | undefined): Map<string, IfaceHint> {
    const hints = new Map<string, IfaceHint>();
    for (const b of ovs?.get('bridges') ?? []) {
      const br = this.idl.get('Bridge', b);
      if (!br) continue;
      for (const p of br.get('ports')) {
        for (const i of this.idl.get('Port', p)?.get('interfaces') ?? []) {
          const cfg = this.idl.get('Interface', i);
          if (cfg)
            hints.set(cfg.get('name'), { brName: br.get('name'), brType: normalizeType(br.get('datapath_type')), ofpPort: pickOfport(cfg) ?? OFPP_NONE });
        }
      }
    }
    return hints;
  }

  /**
   * The second half of bridge_delete_or_reconfigure_ports(): interfaces
   * whose port the ofproto's dump no longer finds (the device, or the whole
   * datapath, gone: `ovs-dpctl del-dp`, a module reload, a restarted kernel
   * daemon) are dropped, their ofport too (update_port, as ofproto_run does
   * when the netdev changes), and retried below as failed ones are.
   */
  private async sweepVanished(br: Bridge): Promise<void> {
    if (!br.ofproto || br.ifaceByName.size === 0) return;
    const present = new Set((await br.ofproto.portDump()).map((p) => p.name));
    for (const iface of [...br.ifaceByName.values()]) {
      if (present.has(iface.name)) continue;
      this.forget(br, iface);
      await br.ofproto.updatePort(iface.name).catch(() => {});
      this.provider.netdevs.close(iface.netdev);
      br.failed.set(iface.name, { port: iface.port.cfg, iface: iface.cfg, key: madeKey(iface) });
    }
  }

  /**
   * bridge_collect_wanted_ports(), restricted to what can have changed: all
   * ports the first time; then the ports added to the Bridge row, those
   * whose row or interfaces changed, and those with failed interfaces (OVS
   * retries those every time). Ports that left the row are returned apart.
   */
  private portsToExamine(br: Bridge, brRow: Row<'Bridge'>, all: boolean): { examine: Map<string, Row<'Port'>>; removed: Port[] } {
    const uuids = brRow.get('ports');
    const current = new Set(uuids);
    const pick = new Set<Uuid>();
    if (all) for (const u of uuids) pick.add(u);
    else {
      for (const u of uuids) if (!br.portUuids.has(u) || this.applying.has(u)) pick.add(u);
      for (const u of this.applying) {
        const iface = br.ifaceByCfg.get(u);
        if (iface && current.has(iface.port.cfg)) pick.add(iface.port.cfg);
      }
      for (const f of br.failed.values()) if (current.has(f.port)) pick.add(f.port);
    }
    const removed: Port[] = [];
    for (const u of br.portUuids) {
      if (current.has(u)) continue;
      const port = br.portByCfg.get(u);
      if (port) removed.push(port);
    }
    if (all) for (const port of br.ports.values()) if (!current.has(port.cfg) && !removed.includes(port)) removed.push(port);
    br.portUuids = current;
    const examine = new Map<string, Row<'Port'>>();
    for (const u of pick) {
      const row = this.idl.get('Port', u);
      if (!row) continue;
      const name = row.get('name');
      if (examine.has(name)) this.log('WARN', `bridge ${br.name}: ${name} specified twice as bridge port`);
      else examine.set(name, row);
    }
    return { examine, removed };
  }

  /** add_del_bridges(): bridges no longer configured (or whose datapath type changed) go; new ones are made, without an ofproto yet. */
  private addDelBridges(ovs: Row<'Open_vSwitch'> | undefined): Promise<void> {
    return span('bridge', 'add_del_bridges', undefined, async () => {
      this.bridgesKey = (ovs?.get('bridges') ?? []).join(',');
      const newBr = new Map<string, Row<'Bridge'>>();
      for (const uuid of ovs?.get('bridges') ?? []) {
        const row = this.idl.get('Bridge', uuid);
        if (!row) continue;
        const name = row.get('name');
        if (name.includes('/') || name.includes('\\')) this.log('WARN', `ignoring bridge with invalid name "${name}"`);
        else if (newBr.has(name)) this.log('WARN', `bridge ${name} specified twice`);
        else newBr.set(name, row);
      }
      for (const br of [...this.bridges.values()]) {
        const row = newBr.get(br.name);
        if (!row || normalizeType(row.get('datapath_type')) !== br.type) await this.bridgeDestroy(br, true);
        else br.cfg = row.uuid;
      }
      for (const name of shashOrder([...newBr.keys()])) {
        if (!this.bridges.has(name)) {
          const row = newBr.get(name)!;
          this.bridges.set(name, new Bridge(name, normalizeType(row.get('datapath_type')), row.uuid));
        }
      }
    });
  }

  /**
   * bridge_del_ports() and bridge_delete_or_reconfigure_ports(): ports and
   * interfaces no longer wanted go, interfaces whose type changed or whose
   * new configuration the netdev refuses go (to be made again), and an
   * interface whose requested OpenFlow number changed goes to come back with it.
   */
  private delPorts(br: Bridge, examine: Map<string, Row<'Port'>>, removed: Port[], deferred: Array<() => Promise<void>>): Promise<void> {
    return span('bridge', 'bridge_del_ports', br.name, async () => {
      for (const port of removed) {
        for (const iface of [...port.ifaces.values()]) await this.ifaceDestroy(br, iface, deferred);
      }
      for (const row of examine.values()) {
        const port = br.ports.get(row.get('name'));
        if (!port) continue;
        if (port.cfg !== row.uuid) br.portByCfg.delete(port.cfg);
        br.portByCfg.set(row.uuid, port);
        port.cfg = row.uuid;
        const names = new Map<string, Row<'Interface'>>();
        for (const u of row.get('interfaces')) {
          const r = this.idl.get('Interface', u);
          if (r) names.set(r.get('name'), r);
        }
        for (const iface of [...port.ifaces.values()]) {
          const cfg = names.get(iface.name);
          if (!cfg) {
            await this.ifaceDestroy(br, iface, deferred);
            continue;
          }
          if (iface.cfg !== cfg.uuid) {
            br.ifaceByCfg.delete(iface.cfg);
            br.ifaceByCfg.set(cfg.uuid, iface);
            iface.cfg = cfg.uuid;
          }
          const type = ifaceType(cfg, iface.name === br.name);
          if (type !== iface.type) {
            await this.ifaceDestroy(br, iface, deferred);
            continue;
          }
          const key = configKey(cfg);
          if (key !== iface.optionsKey) {
            try {
              await netdevSetConfig(this.provider.netdevs, iface.netdev, Object.fromEntries(cfg.get('options')));
              iface.optionsKey = key;
            } catch (err) {
              if (!(err instanceof NetdevConfigError)) throw err;
              await this.ifaceDestroy(br, iface, deferred);
              continue;
            }
          }
          const request = requestOf(cfg);
          if (iface.ofpPort !== OFPP_LOCAL && request !== undefined && request !== iface.ofpPort) {
            const victim = [...br.ifaceByName.values()].find((i) => i.ofpPort === request);
            if (!victim) await this.ifaceDestroy(br, iface, deferred);
            else if (victim.request !== request) {
              await this.ifaceDestroy(br, victim, deferred);
              await this.ifaceDestroy(br, iface, deferred);
            }
          }
          iface.request = request;
          if (cfg.get('mtu_request') !== iface.mtuRequest) {
            await this.ifaceSetNetdevMtu(cfg, iface.netdev);
            // Whether ofproto may override its MTU changed with it.
            this.statusDirty.add(iface);
            br.ofproto?.portChanged(iface.name);
          }
          iface.mtuRequest = cfg.get('mtu_request');
          if (cfg.get('mac') !== iface.mac) await this.ifaceSetMac(iface, cfg);
        }
      }
      // Failed interfaces no longer configured are not retried.
      for (const [name, f] of [...br.failed]) {
        const portRow = this.idl.get('Port', f.port);
        if (!portRow || !br.portUuids.has(f.port) || !portRow.get('interfaces').includes(f.iface)) br.failed.delete(name);
      }
    });
  }

  /**
   * iface_destroy(): "deleted interface" is logged now; the ofport goes now,
   * except a ghost (tunnel, patch) — OVS finds those only when ofproto_run
   * notices their netdev was removed, after this reconfiguration's additions.
   */
  private ifaceDestroy(br: Bridge, iface: Iface, deferred: Array<() => Promise<void>>): Promise<void> {
    return span('bridge', 'iface_destroy', `${br.name} ${iface.name}`, async () => {
      this.log('INFO', `bridge ${br.name}: deleted interface ${iface.name} on port ${iface.ofpPort}`);
      this.forget(br, iface);
      const ofproto = br.ofproto;
      const del = async () => {
        if (ofproto && iface.ofpPort !== OFPP_NONE && ofproto.ports.get(iface.ofpPort)?.name === iface.name)
          await ofproto.portDel(iface.ofpPort).catch(() => {});
        this.provider.netdevs.close(iface.netdev);
      };
      const ghost = ofproto?.ports.get(iface.ofpPort)?.odpPort === undefined || ofproto?.ports.get(iface.ofpPort)?.tunnel !== undefined;
      if (ghost) deferred.push(del);
      else await del();
    });
  }

  /** The bridge's records of an interface (and of its port when it was the last) go. */
  private forget(br: Bridge, iface: Iface): void {
    this.statusDirty.delete(iface);
    this.patchIfaces.delete(iface);
    if (this.ifaceByIfindex.get(iface.ifindex) === iface) this.ifaceByIfindex.delete(iface.ifindex);
    this.setPortMac(br, iface.name, undefined);
    br.ifaceByName.delete(iface.name);
    br.ifaceByCfg.delete(iface.cfg);
    iface.port.ifaces.delete(iface.name);
    if (iface.port.ifaces.size === 0) {
      br.ports.delete(iface.port.name);
      br.portByCfg.delete(iface.port.cfg);
    }
  }

  /** bridge_add_ports(): the interfaces not yet made, those asking for a number first, in OVS's hash order. */
  private async addPorts(br: Bridge, all: Row<'Port'>[], examine: Map<string, Row<'Port'>>, withRequest: boolean): Promise<void> {
    const todo: Array<{ port: Row<'Port'>; iface: Row<'Interface'> }> = [];
    for (const port of examine.values()) {
      for (const u of port.get('interfaces')) {
        const iface = this.idl.get('Interface', u);
        if (!iface || br.ifaceByName.has(iface.get('name'))) continue;
        if ((requestOf(iface) !== undefined) === withRequest) todo.push({ port, iface });
      }
    }
    if (todo.length === 0) return;
    // SHASH_FOR_EACH over the wanted ports: their names in hash order (only needed when several are new).
    const order = todo.length > 1 ? new Map(shashOrder(all.map((p) => p.get('name'))).map((n, i) => [n, i])) : undefined;
    if (order) todo.sort((a, b) => order.get(a.port.get('name'))! - order.get(b.port.get('name'))!);
    await span('bridge', 'bridge_add_ports__', `${br.name} with_requested_port=${withRequest}`, async () => {
      for (const { port, iface } of todo) await this.ifaceCreate(br, port, iface);
    });
  }

  /** iface_create(): iface_do_create(), then the interface is recorded (or its failure, to retry later). */
  private ifaceCreate(br: Bridge, portRow: Row<'Port'>, cfg: Row<'Interface'>): Promise<void> {
    const name = cfg.get('name');
    return span('bridge', 'iface_create', `${br.name} ${name}`, async () => {
      const type = ifaceType(cfg, name === br.name);
      const made = await this.ifaceDoCreate(br, cfg, type);
      if ('error' in made) {
        if (made.error && !made.logged) this.log('WARN', made.error);
        br.failed.set(name, { port: portRow.uuid, iface: cfg.uuid, key: wantKey(cfg, name === br.name) });
        this.status.set(cfg.uuid, { ofport: -1, error: made.error });
        return;
      }
      const { netdev, ofpPort } = made;
      this.log('INFO', `bridge ${br.name}: added interface ${name} on port ${ofpPort}`);
      let port = br.ports.get(portRow.get('name'));
      if (!port) {
        br.ports.set(portRow.get('name'), (port = { name: portRow.get('name'), cfg: portRow.uuid, ifaces: new Map() }));
        br.portByCfg.set(portRow.uuid, port);
      }
      const iface: Iface = {
        name,
        type,
        ofpPort,
        netdev,
        cfg: cfg.uuid,
        port,
        optionsKey: configKey(cfg),
        request: requestOf(cfg),
        changeSeq: 0,
        ifindex: 0,
        mtuRequest: cfg.get('mtu_request'),
        mac: null,
      };
      port.ifaces.set(name, iface);
      br.ifaceByName.set(name, iface);
      br.ifaceByCfg.set(cfg.uuid, iface);
      br.failed.delete(name);
      await this.ifaceSetMac(iface, cfg);
      if (ofpPort !== OFPP_LOCAL) this.setPortMac(br, name, await netdevGetEtheraddr(this.provider.netdevs, netdev).catch(() => undefined));
      this.statusDirty.add(iface);
      if (netdevVportPatchPeer(netdev) !== undefined) {
        this.patchIfaces.set(iface, br);
        this.freshPatches.add(iface);
      }
      this.status.set(cfg.uuid, { ofport: ofpPort, error: null, netdev });
    });
  }

  /**
   * iface_do_create(): netdev_open(), iface_set_netdev_config(),
   * ofproto_port_add(); the netdev and OpenFlow port number, or the error
   * text for Interface.error (and whether it was logged already).
   */
  private ifaceDoCreate(
    br: Bridge,
    cfg: Row<'Interface'>,
    type: string,
  ): Promise<{ netdev: Netdev; ofpPort: number } | { error: string | null; logged: boolean }> {
    const name = cfg.get('name');
    return span(
      'bridge',
      'iface_do_create',
      `${name} (${type})`,
      async () => {
        let netdev: Netdev;
        try {
          netdev = await this.provider.netdevs.open(name, type);
        } catch (err) {
          return { error: `could not open network device ${name} (${errText(err)})`, logged: false };
        }
        try {
          await netdevSetConfig(this.provider.netdevs, netdev, Object.fromEntries(cfg.get('options')));
        } catch (err) {
          this.provider.netdevs.close(netdev);
          if (!(err instanceof NetdevConfigError)) throw err;
          return { error: err.message, logged: true };
        }
        await this.ifaceSetNetdevMtu(cfg, netdev);
        try {
          return { netdev, ofpPort: await br.ofproto!.portAdd(netdev, pickOfport(cfg)) };
        } catch (err) {
          this.provider.netdevs.close(netdev);
          return { error: `could not add network device ${name} to ofproto (${errText(err)})`, logged: false };
        }
      },
      (r) => ('error' in r ? `error: ${r.error}` : `ofport ${r.ofpPort}`),
    );
  }

  /** bridge_destroy(): its ports go, then its ofproto (with the datapath's ports, and the datapath with the last bridge). */
  private bridgeDestroy(br: Bridge, del: boolean): Promise<void> {
    return span('bridge', 'bridge_destroy', br.name, async () => {
      for (const iface of br.ifaceByName.values()) {
        this.log('INFO', `bridge ${br.name}: deleted interface ${iface.name} on port ${iface.ofpPort}`);
      }
      this.bridges.delete(br.name);
      await br.ofproto?.destroy(del);
      for (const iface of br.ifaceByName.values()) this.provider.netdevs.close(iface.netdev);
      br.ifaceByName.clear();
      br.ports.clear();
    });
  }

  /** bridge_run__(): each bridge's ofproto_run (with its datapath type's run: tunnel backers, port changes). */
  private bridgeRunInner(): Promise<void> {
    return span('bridge', 'bridge_run__', undefined, async () => {
      for (const br of this.bridges.values()) {
        if (!br.ofproto) continue;
        // A port whose datapath side vanished (its device deleted) is gone from the ofproto: the bridge forgets it too.
        for (const name of await br.ofproto.run()) {
          const iface = br.ifaceByName.get(name);
          if (!iface) continue;
          this.forget(br, iface);
          this.provider.netdevs.remove(iface.netdev);
          br.failed.set(iface.name, { port: iface.port.cfg, iface: iface.cfg, key: madeKey(iface) });
          this.status.set(iface.cfg, { ofport: -1, error: null });
        }
      }
    });
  }

  /**
   * iface_set_netdev_mtu(): an interface with an mtu_request gets that MTU
   * (netdev_set_mtu; a failure is logged there, and changes nothing else).
   */
  private async ifaceSetNetdevMtu(cfg: Row<'Interface'>, netdev: Netdev): Promise<void> {
    const mtu = cfg.get('mtu_request');
    netdevMtuUserConfig(netdev, mtu !== null);
    if (mtu !== null) await netdevSetMtu(this.provider, netdev, mtu);
  }

  /** iface_set_mac(): an internal interface's configured MAC (not the bridge's own port: its MAC is the Bridge row's business). */
  private async ifaceSetMac(iface: Iface, cfg: Row<'Interface'>): Promise<void> {
    iface.mac = cfg.get('mac');
    if (iface.type !== 'internal' || iface.mac === null) return;
    const mac = parseMac(iface.mac);
    if (!mac) return;
    if (iface.ofpPort === OFPP_LOCAL) this.log('ERR', `interface ${iface.name}: ignoring mac in Interface record (use Bridge record to set local port's mac)`);
    else if (mac[0]! & 1) this.log('ERR', `interface ${iface.name}: cannot set MAC to multicast address`);
    else if (mac.every((b) => b === 0)) this.log('ERR', `interface ${iface.name}: cannot set MAC to all zero address`);
    else {
      const error = await netdevSetEtheraddr(this.provider, iface.netdev, mac);
      if (error) this.log('ERR', `interface ${iface.name}: setting MAC failed (${strerror(error)})`);
    }
  }

  /** A port's MAC as find_local_hw_addr() would weigh it (undefined: none, or not usable); the least is kept current. */
  private setPortMac(br: Bridge, name: string, mac: Uint8Array | undefined): void {
    const usable = mac !== undefined && ethAddrUsableAsBridgeMac(mac) ? mac : undefined;
    if (usable) br.portMacs.set(name, usable);
    else if (!br.portMacs.delete(name)) return;
    if (usable && (!br.leastMac || compareMac(usable, br.leastMac.mac) < 0)) br.leastMac = { name, mac: usable };
    else if (br.leastMac?.name === name) {
      // The least one went or grew: look again (only ports with universal MACs, usually few).
      br.leastMac = undefined;
      for (const [n, m] of br.portMacs) if (!br.leastMac || compareMac(m, br.leastMac.mac) < 0) br.leastMac = { name: n, mac: m };
    }
  }

  /**
   * bridge_configure_datapath_id(): the bridge MAC (bridge_pick_local_hw_addr)
   * set on its own port, and the datapath ID written to the Bridge row.
   */
  private async bridgeConfigureDatapathId(br: Bridge): Promise<void> {
    const row = this.idl.get('Bridge', br.cfg);
    if (!row || !br.ofproto) return;
    const other = row.get('other_config');
    const pick = bridgePickLocalHwAddr(br.name, other.get('hwaddr'), br.leastMac?.mac, bridgeDefaultEa(row.uuid));
    if (pick.error && (!br.ea || compareMac(br.ea, pick.ea) !== 0)) this.log('ERR', pick.error);
    const local = br.ifaceByName.get(br.name);
    if (local && local.ofpPort === OFPP_LOCAL) {
      const error = await netdevSetEtheraddr(this.provider, local.netdev, pick.ea);
      if (error) this.log('ERR', `bridge ${br.name}: failed to set bridge Ethernet address: ${strerror(error)}`);
    }
    br.ea = pick.ea;
    const dpid = bridgePickDatapathId(other.get('datapath-id'), pick.ea);
    if (dpid !== br.datapathId) {
      this.log('INFO', `bridge ${br.name}: using datapath ID ${dpid}`);
      br.datapathId = dpid;
    }
    if (row.get('datapath_id') !== dpid) this.bridgeStatus.set(row.uuid, { ...this.bridgeStatus.get(row.uuid), datapath_id: dpid });
    if (!br.datapathVersionWritten) {
      // br_refresh_datapath_info(): dpif-netlink reads /sys/module/openvswitch/version, which the in-tree module of Linux 6.1 does not have.
      br.datapathVersionWritten = true;
      if (row.get('datapath_version') !== '<unknown>') this.bridgeStatus.set(row.uuid, { ...this.bridgeStatus.get(row.uuid), datapath_version: '<unknown>' });
    }
  }

  /**
   * What goes back to the database, in one transaction: each interface made
   * (ofport, no error) or failed (iface_clear_db_record), cur_cfg and the
   * discovered types (bridge_reconfigure's transaction), the Bridge
   * columns, and (run_status_update) the netdev status of every interface
   * whose netdev changed since it was last written. A failed commit makes
   * those interfaces try again (status_txn_try_again).
   */
  private writeStatus(ovs: Row<'Open_vSwitch'> | undefined, nextCfg: number): Promise<void> {
    return span('bridge', 'run_status_update', undefined, async () => {
      const refresh = [...this.statusDirty].filter((i) => i.changeSeq !== i.netdev.changeSeq);
      this.statusDirty.clear();
      const patch = new Map<Uuid, Partial<VswitchTables['Interface']>>();
      this.patchStatus(patch);
      if (
        this.status.size === 0 &&
        refresh.length === 0 &&
        patch.size === 0 &&
        this.bridgeStatus.size === 0 &&
        !this.typesPending &&
        (!ovs || ovs.get('cur_cfg') === nextCfg)
      )
        return;
      const txn = this.idl.transaction();
      const written = new Map<Uuid, Partial<VswitchTables['Interface']>>();
      for (const [uuid, st] of this.status) {
        written.set(uuid, st.netdev ? { ofport: st.ofport, error: st.error } : ifaceClearDbRecord(st.error));
      }
      for (const iface of refresh) {
        if (!this.idl.get('Interface', iface.cfg) || this.findIface(iface.name) !== iface) continue;
        iface.changeSeq = iface.netdev.changeSeq;
        const values = await ifaceRefreshNetdevStatus(this.provider, iface.netdev);
        if (this.ifaceByIfindex.get(iface.ifindex) === iface) this.ifaceByIfindex.delete(iface.ifindex);
        iface.ifindex = values.ifindex ?? 0;
        if (iface.ifindex) this.ifaceByIfindex.set(iface.ifindex, iface);
        const br = [...this.bridges.values()].find((b) => b.ifaceByName.get(iface.name) === iface);
        if (br && iface.ofpPort !== OFPP_LOCAL && values.mac_in_use !== undefined)
          this.setPortMac(br, iface.name, values.mac_in_use === null ? undefined : parseMac(values.mac_in_use));
        written.set(iface.cfg, { ...written.get(iface.cfg), ...values });
      }
      for (const [uuid, values] of patch) written.set(uuid, { ...written.get(uuid), ...values });
      for (const [uuid, values] of written) {
        const row = this.idl.get('Interface', uuid);
        if (row) txn.update(row, values);
      }
      for (const [uuid, values] of this.bridgeStatus) {
        const row = this.idl.get('Bridge', uuid);
        if (row) txn.update(row, values);
      }
      if (ovs && ovs.get('cur_cfg') !== nextCfg) txn.update(ovs, { cur_cfg: nextCfg });
      if (ovs && this.typesPending) txn.update(ovs, { datapath_types: DATAPATH_TYPES, iface_types: IFACE_TYPES });
      this.status.clear();
      this.bridgeStatus.clear();
      this.typesPending = false;
      const r = await txn.commit();
      if (r.status === 'error') this.log('WARN', `could not write the bridges' status to the database (${r.error.message})`);
      if (r.status !== 'success' && r.status !== 'unchanged') {
        for (const iface of refresh) {
          iface.changeSeq = 0;
          this.statusDirty.add(iface);
        }
      }
    });
  }

  /**
   * iface_refresh_ofproto_status() for patch ports (the only ones whose
   * ofproto status can be an error): bridge_reconfigure() clears every
   * interface's error, and the next status update after a device change
   * writes "No usable peer" for a patch port without one — in the lab, not
   * the update of the reconfiguration that added it, but the one after the
   * next link change (even when that link change reconfigured too), never
   * the one of the run that made the port, whatever else changed then.
   */
  private patchStatus(written: Map<Uuid, Partial<VswitchTables['Interface']>>): void {
    const reconfigured = this.reconfigured;
    const linkChanged = this.linkChanged;
    const fresh = this.freshPatches;
    this.reconfigured = false;
    this.linkChanged = false;
    this.freshPatches = new Set();
    if (!reconfigured && !linkChanged) return;
    for (const [iface, br] of this.patchIfaces) {
      const row = this.idl.get('Interface', iface.cfg);
      const peer = netdevVportPatchPeer(iface.netdev);
      if (!row || peer === undefined || this.status.has(iface.cfg)) continue;
      let error = reconfigured ? null : row.get('error');
      if (linkChanged && !fresh.has(iface) && !this.patchPeerUsable(br, iface, peer)) error = `No usable peer '${peer}' exists in '${br.type}' datapath.`;
      if (row.get('error') !== error) written.set(iface.cfg, { ...written.get(iface.cfg), error });
    }
  }

  /** ofport_update_peer(): a patch port's peer is usable if a bridge of the same datapath type has it, as a patch port pointing back. */
  private patchPeerUsable(br: Bridge, iface: Iface, peer: string): boolean {
    for (const other of this.bridges.values()) {
      if (other.type !== br.type) continue;
      const p = other.ifaceByName.get(peer);
      if (p && netdevVportPatchPeer(p.netdev) === iface.name) return true;
    }
    return false;
  }

  /**
   * run_stats_update(): every stats-update-interval (5 s by default, never
   * less), each interface's statistics (iface_refresh_stats), in a
   * transaction of their own; the next refresh is due an interval after
   * this one ends.
   */
  private runStatsUpdate(ovs: Row<'Open_vSwitch'> | undefined): Promise<void> {
    if (!ovs) return Promise.resolve();
    const interval = statsUpdateInterval(ovs.get('other_config'));
    if (interval !== this.statsInterval) {
      this.statsInterval = interval;
      this.statsTimer = -Infinity;
    }
    if (this.now() < this.statsTimer) return Promise.resolve();
    return span('bridge', 'run_stats_update', undefined, async () => {
      const txn = this.idl.transaction();
      let any = false;
      for (const br of this.bridges.values()) {
        for (const iface of br.ifaceByName.values()) {
          const row = this.idl.get('Interface', iface.cfg);
          if (!row) continue;
          txn.update(row, { statistics: await ifaceRefreshStats(this.provider.netdevs, iface.netdev) });
          any = true;
        }
      }
      if (any) await txn.commit();
      this.statsTimer = this.now() + this.statsInterval;
    });
  }

  /** When the next statistics refresh is due (ms, this.now()'s clock), for the daemon's poll timer. */
  get statsDue(): number {
    return this.statsTimer;
  }

  /** Shut down: bridges stay in the datapath (as OVS leaves them on exit) unless `cleanup`. */
  async close(cleanup = false): Promise<void> {
    for (const br of [...this.bridges.values()]) await this.bridgeDestroy(br, cleanup);
    await this.ifNotifier?.close();
    await this.linkWatcher?.close();
  }
}

/** iface_get_type(): the bridge's own port is internal; an empty type is "system". */
function ifaceType(cfg: Row<'Interface'>, isLocal: boolean): string {
  return isLocal ? 'internal' : cfg.get('type') || 'system';
}

/**
 * iface_pick_ofport(): the requested number, else the number the database
 * still has for the interface (so a restarted switch gives ports their old
 * numbers back), else none.
 */
function pickOfport(cfg: Row<'Interface'>): number | undefined {
  const request = requestOf(cfg);
  if (request !== undefined) return request;
  const old = cfg.get('ofport');
  return old !== null && old > 0 && old < OFPP_MAX ? old : undefined;
}

/** iface_get_requested_ofp_port(). */
function requestOf(cfg: Row<'Interface'>): number | undefined {
  const r = cfg.get('ofport_request');
  return r === null || r === undefined ? undefined : r;
}

/** What an interface was made with, in wantKey()'s terms. */
function madeKey(iface: Iface): string {
  return `${iface.type}|${iface.optionsKey}|${iface.request}`;
}

/** What an interface asks for: type, options and requested number (a change to any of them is a reconfiguration). */
function wantKey(cfg: Row<'Interface'>, isLocal: boolean): string {
  return `${ifaceType(cfg, isLocal)}|${configKey(cfg)}|${requestOf(cfg)}`;
}

function configKey(cfg: Row<'Interface'>): string {
  return JSON.stringify([...cfg.get('options')].sort());
}

function errText(err: unknown): string {
  const e = err as { errno?: number; text?: string; message?: string };
  if (e.errno !== undefined) return strerror(e.errno);
  return e.text ?? e.message ?? String(err);
}
