/**
 * struct dpif_backer (ofproto/ofproto-dpif.c): one open datapath per
 * datapath type, shared by every bridge of that type. It owns the datapath
 * port -> ofport map, the tunnel backers (one datapath port per tunnel
 * device name, e.g. vxlan_sys_4789, shared by every tunnel that needs it)
 * and the tunnel match table, and it follows the datapath's port changes.
 */
import { type DpifNetlink, type DpifNetlinkProvider, DpifError, dpifClose, dpifOpen } from '@ovs/dpif-netlink';
import { netdevToSpec, netdevVportGetDpifPort } from '@ovs/netdev';
import { type DpifBackerSupport, LINUX_6_1_SUPPORT } from './dp-features.js';
import type { Ofport, OfprotoLog } from './ofport.js';
import { TunnelPorts } from './tunnel.js';

/** What the backers of one process share: the datapath provider and the log. */
export interface OfprotoEnv {
  provider: DpifNetlinkProvider;
  log: OfprotoLog;
  /** Milliseconds, for ofport number reuse (OVS's time_msec()). */
  now?: () => number;
  /**
   * init_ofp_ports (ofproto_init's iface hints): every interface the
   * database configures at start-up, with its bridge and the OpenFlow number
   * it should get back (iface_pick_ofport). A backer opening an existing
   * datapath keeps the ports named here and treats the others as tunnel
   * backer candidates (deleted by the next run() unless a tunnel needs
   * them); a bridge being created takes its hints out (ofproto-dpif's
   * construct, ofproto.c's init_ports) and installs the ports the datapath
   * still has with those numbers.
   */
  ifaceHints?: Map<string, IfaceHint>;
}

/** struct iface_hint. */
export interface IfaceHint {
  brName: string;
  brType: string;
  /** The number to give back (ofport_request, else the database's ofport); OFPP_NONE for none. */
  ofpPort: number;
}

/** The bridges of a backer, as the backer needs to see them. */
export interface BackerClient {
  readonly name: string;
  /** Tunnel ofports (for tunnel-backer reconciliation). */
  tunnelPorts(): Iterable<Ofport>;
  /** A datapath port of this bridge changed or vanished (port_poll). */
  portChanged(devname: string): void;
  /** The port poll overflowed: every port must be looked at again. */
  resync(): void;
  ownsPort(devname: string): boolean;
}

const backers = new WeakMap<DpifNetlinkProvider, Map<string, DpifBacker>>();

/** An old datapath open_dpif_backer() removes (dpif_open, dpif_delete, dpif_close). */
async function deleteDatapath(env: OfprotoEnv, name: string): Promise<void> {
  let dpif: DpifNetlink;
  try {
    dpif = await dpifOpen(env.provider, name, false);
  } catch (err) {
    if (!(err instanceof DpifError)) throw err;
    env.log('WARN', 'ofproto_dpif', `couldn't open old datapath ${name} to remove it`);
    return;
  }
  await dpif.destroy().catch(() => {});
  await dpifClose(env.provider, dpif);
}

export class DpifBacker {
  /** odp_to_ofport_map. */
  readonly odpToOfport = new Map<number, Ofport>();
  /** tnl_backers: datapath port name -> datapath port number. */
  readonly tnlBackers = new Map<string, number>();
  readonly tunnels: TunnelPorts;
  readonly clients = new Set<BackerClient>();
  /** bt_support: what the datapath supports (see dp-features.ts: Linux 6.1's module, not probed). */
  readonly btSupport: DpifBackerSupport = LINUX_6_1_SUPPORT;
  /** need_revalidate: ports changed; tunnel backers are reconciled on the next run(). */
  needRevalidate = false;
  private refcount = 0;

  private constructor(
    readonly env: OfprotoEnv,
    readonly type: string,
    readonly dpif: DpifNetlink,
  ) {
    this.tunnels = new TunnelPorts((text) => env.log('WARN', 'tunnel', text));
  }

  /**
   * open_dpif_backer(): other datapaths of the type are deleted (OVS assumes
   * it is the only userspace controlling them), then the datapath "ovs-TYPE"
   * is opened, created if missing. Its ports that no configured interface
   * names are stale, or tunnel backers (vxlan_sys_4789...) under another
   * name than their tunnels: all become tunnel backers, and the first run()
   * deletes those no tunnel needs.
   */
  static async open(env: OfprotoEnv, type: string): Promise<DpifBacker> {
    let byType = backers.get(env.provider);
    if (byType === undefined) backers.set(env.provider, (byType = new Map()));
    let backer = byType.get(type);
    if (backer === undefined) {
      if (type !== 'system')
        throw new DpifError(97 /* EAFNOSUPPORT */, undefined, `datapath type ${type} is not supported (only the kernel datapath, "system")`);
      const name = `ovs-${type}`;
      await env.provider.dpInitialize();
      for (const old of await env.provider.enumerate()) {
        if (old !== name) await deleteDatapath(env, old);
      }
      const dpif = await dpifOpen(env.provider, name, true).catch(async (err: unknown) => {
        if (err instanceof DpifError && err.errno === 17 /* EEXIST */) return dpifOpen(env.provider, name, false);
        throw err;
      });
      backer = new DpifBacker(env, type, dpif);
      const configured = (port: string) => env.ifaceHints?.has(port) ?? false;
      for (const port of await dpif.portDump()) {
        if (port.name !== dpif.name && !configured(port.name)) {
          backer.tnlBackers.set(port.name, port.portNo);
          backer.needRevalidate = true;
        }
      }
      // The first port poll asks for a resync; nothing is known yet, so take it now.
      await dpif.portPoll();
      byType.set(type, backer);
    }
    backer.refcount++;
    return backer;
  }

  /** close_dpif_backer(): the last bridge of the type closes the datapath (and destroys it, as OVS does on exit with no bridges). */
  async close(client: BackerClient, destroy: boolean): Promise<void> {
    this.clients.delete(client);
    if (--this.refcount > 0) return;
    backers.get(this.env.provider)?.delete(this.type);
    if (destroy) await this.dpif.destroy().catch(() => {});
    await dpifClose(this.env.provider, this.dpif);
  }

  /** dpif_port_exists(). */
  async portExists(name: string): Promise<boolean> {
    try {
      await this.dpif.portQueryByName(name);
      return true;
    } catch (err) {
      if (err instanceof DpifError) return false;
      throw err;
    }
  }

  /**
   * type_run(): reconcile the tunnel backers with the tunnel ports that need
   * them (a new backer port for a device name nobody had, the datapath port
   * of one nobody uses any more deleted), then read the datapath's port
   * changes and hand them to the bridges.
   */
  async run(): Promise<void> {
    if (this.needRevalidate) {
      this.needRevalidate = false;
      const old = new Map(this.tnlBackers);
      this.tnlBackers.clear();
      for (const client of this.clients) {
        for (const port of client.tunnelPorts()) {
          const dpPort = netdevVportGetDpifPort(port.netdev);
          let odp = this.tnlBackers.get(dpPort) ?? old.get(dpPort);
          old.delete(dpPort);
          if (odp === undefined) {
            odp = await this.dpif.portAdd(netdevToSpec(port.netdev)).catch(() => undefined);
          }
          if (odp !== undefined) this.tnlBackers.set(dpPort, odp);
          const before = port.odpPort;
          port.odpPort = odp;
          if (before !== odp && port.tunnel) this.tunnels.reconfigure(port.name, port.tunnel, odp ?? 0xffffffff);
        }
      }
      for (const odp of old.values()) await this.dpif.portDel(odp).catch(() => {});
    }
    await this.portPoll();
  }

  /**
   * The datapath's port changes (dpif_port_poll, process_dpif_port_change):
   * a port of a bridge that vanished or moved is handed to that bridge; a
   * port no bridge claims is deleted; the datapath's own port and tunnel
   * backers are not the bridges' business.
   */
  private async portPoll(): Promise<void> {
    for (;;) {
      const r = await this.dpif.portPoll();
      if (r.kind === 'none') return;
      if (r.kind === 'resync') {
        for (const c of this.clients) c.resync();
        continue;
      }
      const name = r.name;
      if (name === this.dpif.name || this.tnlBackers.has(name)) continue;
      const owner = [...this.clients].find((c) => c.ownsPort(name));
      let port: { portNo: number } | undefined;
      try {
        port = await this.dpif.portQueryByName(name);
      } catch (err) {
        if (!(err instanceof DpifError)) throw err;
      }
      if (port === undefined) owner?.portChanged(name);
      else if (owner === undefined) await this.dpif.portDel(port.portNo).catch(() => {});
      else if (this.odpToOfport.get(port.portNo)?.name !== name) owner.portChanged(name);
    }
  }
}
