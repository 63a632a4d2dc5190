/**
 * A bridge as an OpenFlow switch over a datapath: ofproto/ofproto.c's port
 * bookkeeping (OpenFlow port numbers, update_port, ofport install/remove)
 * together with the ofproto-dpif class it runs on (port_add / port_del /
 * port_query_by_name / port_construct / port_destruct), the two halves of
 * one object here as they are of one `struct ofproto_dpif` in OVS.
 *
 * Datapath ports: a system/internal port has its own; a tunnel port is a
 * "ghost" on its tunnel backer (one datapath port per device name such as
 * vxlan_sys_4789, shared, reclaimed with its last user by the backer's
 * run()); a patch port is a ghost with no datapath port at all.
 */
import { DpifError, type DpifPort, dpifPortAdd } from '@ovs/dpif-netlink';
import { Errno } from '@ovs/genl-codec';
import {
  type Netdev,
  netdevGetMtu,
  netdevGetTunnelConfig,
  netdevMtuIsUserConfig,
  netdevSetMtu,
  netdevToSpec,
  netdevVportGetDpifPort,
  netdevVportIsPatch,
} from '@ovs/netdev';
import { span, spanSync } from '@ovs/trace';
import { coverageDefine, simapIncrease } from '@ovs/util';
import { type BackerClient, DpifBacker, type OfprotoEnv } from './backer.js';
import { OFPP_LOCAL, OFPP_MAX, OFPP_NONE, type Ofport, OfprotoError } from './ofport.js';

/** struct ofproto_port: a port as the class reports it. */
export interface OfprotoPort {
  name: string;
  type: string;
  ofpPort: number;
}

// ofproto/ofproto.c's coverage counters (those this ofproto has events for).
const COVERAGE_OFPROTO_REINIT_PORTS = coverageDefine('ofproto_reinit_ports');
const COVERAGE_OFPROTO_UPDATE_PORT = coverageDefine('ofproto_update_port');

/** ETH_PAYLOAD_MAX: find_min_mtu()'s answer when no port counts. */
const ETH_PAYLOAD_MAX = 1500;

/** Numbers deleted less than this long ago are not handed out again (alloc_ofp_port). */
const REUSE_AFTER_MS = 60 * 60 * 1000;

export class Ofproto implements BackerClient {
  /** ofproto->ports, by OpenFlow port number. */
  readonly ports = new Map<number, Ofport>();
  /** ofproto->port_by_name. */
  readonly portByName = new Map<string, Ofport>();
  /** ofp_requests: the number each interface asked for (OFPP_NONE: none). */
  private readonly ofpRequests = new Map<string, number>();
  /** ofport_usage: when each number was last freed (Infinity while in use). */
  private readonly usage = new Map<number, number>();
  private allocPortNo = 0;
  readonly maxPorts = OFPP_MAX;
  /** ofproto-dpif's `ports` (with a datapath port of their own) and `ghost_ports` (tunnels, patches). */
  private readonly dpPorts = new Set<string>();
  private readonly ghostPorts = new Set<string>();
  /** ofproto->min_mtu: INT_MAX until a port counts. */
  private minMtu = 0x7fffffff;
  /**
   * ofport->mtu of the ports whose MTU is not overridden, counted by value,
   * so that find_min_mtu() need not walk the ports (OVS does).
   */
  private readonly mtuCount = new Map<number, number>();
  private readonly countedMtu = new Map<Ofport, number>();
  /** port_poll_set / ENOBUFS: what the backer reported for update_port(). */
  private readonly pollSet = new Set<string>();
  private pollResync = false;

  private constructor(
    readonly env: OfprotoEnv,
    readonly name: string,
    readonly type: string,
    readonly backer: DpifBacker,
  ) {}

  /**
   * ofproto_create() with the ofproto-dpif class: the bridge joins (or
   * opens) its type's backer; the ports its interfaces still have in the
   * datapath (an earlier run's) are installed at once (construct, init_ports).
   */
  static async create(env: OfprotoEnv, name: string, type = 'system'): Promise<Ofproto> {
    const backer = await DpifBacker.open(env, type);
    const ofproto = new Ofproto(env, name, type, backer);
    backer.clients.add(ofproto);
    await ofproto.initPorts();
    return ofproto;
  }

  /**
   * ofproto-dpif's construct() and ofproto.c's init_ports(): this bridge's
   * iface hints are taken out of the start-up set; each hinted interface
   * whose datapath port exists becomes a port again, with the number the
   * database gave it. The automatic numbers continue after the highest one
   * installed. OVS installs them in its hash order, so a port without a
   * number there (added to the database but never reported back: a
   * transaction interrupted by a crash) can take a number that a later
   * port had; here the ports with a number go first, so none loses its own.
   */
  private initPorts(): Promise<void> {
    return span('ofproto', 'init_ports', this.name, async () => {
      const hints = this.env.ifaceHints;
      if (hints === undefined) return;
      const mine: Array<[string, number]> = [];
      for (const [iface, hint] of hints) {
        if (hint.brName !== this.name) continue;
        hints.delete(iface);
        if (await this.backer.portExists(iface)) mine.push([iface, hint.ofpPort]);
      }
      mine.sort((a, b) => Number(a[1] === OFPP_NONE) - Number(b[1] === OFPP_NONE));
      for (const [iface, ofpPort] of mine) {
        this.dpPorts.add(iface);
        this.ofpRequests.set(iface, ofpPort);
        try {
          await this.updatePort(iface);
        } catch (err) {
          if (!(err instanceof DpifError) && !(err instanceof OfprotoError)) throw err;
          continue;
        }
        const port = this.portByName.get(iface);
        if (port && port.ofpPort < this.maxPorts) this.allocPortNo = Math.max(this.allocPortNo, port.ofpPort);
      }
    });
  }

  private get now(): number {
    return this.env.now?.() ?? Date.now();
  }

  private log(level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void {
    this.env.log(level, module, text);
  }

  // ---------------------------------------------------------------- ofproto.c

  /**
   * ofproto_port_add(): the class adds the datapath side, then update_port()
   * makes the ofport. Returns the OpenFlow port number; throws an error
   * carrying the errno (EEXIST for a tunnel like an existing one, ...).
   */
  portAdd(netdev: Netdev, ofpRequest?: number): Promise<number> {
    return span(
      'ofproto',
      'ofproto_port_add',
      `${this.name} ${netdev.name}${ofpRequest !== undefined ? ` ofport_request ${ofpRequest}` : ''}`,
      async () => {
        const added = await this.dpifPortAdd(netdev);
        this.ofpRequests.set(netdev.name, ofpRequest ?? OFPP_NONE);
        try {
          await this.updatePort(netdev.name);
        } catch (err) {
          // No ofport (no number left, the datapath port already mapped...): the datapath port this call
          // made goes again, which OVS leaves to the bridge's next sweep of ports it has no interface for.
          if (added !== undefined) await this.unwindPortAdd(netdev.name, added);
          throw err;
        }
        const port = await this.portQueryByName(netdev.name);
        return port.ofpPort;
      },
      (n) => `ofport ${n}`,
    );
  }

  /** A port_add() whose ofport could not be made: its datapath port (not a shared tunnel backer) is deleted. */
  private async unwindPortAdd(name: string, odp: number): Promise<void> {
    if (!this.dpPorts.delete(name)) return;
    if (this.portByName.has(name)) return;
    await this.backer.dpif.portDel(odp).catch(() => {});
  }

  /** ofproto_port_del(): the class removes the datapath side, update_port() the ofport. */
  portDel(ofpPort: number): Promise<void> {
    return span('ofproto', 'ofproto_port_del', `${this.name} ofport ${ofpPort}`, async () => {
      const ofport = this.ports.get(ofpPort);
      if (ofport) this.ofpRequests.delete(ofport.name);
      await this.dpifPortDel(ofpPort);
      if (ofport) await this.updatePort(ofport.name);
    });
  }

  /**
   * ofproto_port_dump (ofproto-dpif's port_dump_start/next): the ports with
   * a datapath port of their own, then the ghosts, as port_query_by_name()
   * would find each now. Those the datapath no longer has (ENODEV: the
   * vport, or the whole datapath, gone: `ovs-dpctl del-dp`, a module
   * reload) are left out — which is how the bridge layer's sweep
   * (bridge_delete_or_reconfigure_ports) learns that they vanished. One
   * datapath port dump stands in for OVS's query per port.
   */
  async portDump(): Promise<OfprotoPort[]> {
    const inDp = new Map<string, DpifPort>();
    try {
      for await (const p of this.backer.dpif.portDumpStart()) inDp.set(p.name, p);
    } catch (err) {
      if (!(err instanceof DpifError) || err.errno !== Errno.ENODEV) throw err;
    }
    const out: OfprotoPort[] = [];
    for (const name of this.dpPorts) {
      const dp = inDp.get(name);
      if (dp !== undefined) out.push(this.toOfprotoPort(dp));
    }
    for (const name of this.ghostPorts) {
      try {
        out.push(await this.portQueryByName(name));
      } catch (err) {
        if (!(err instanceof OfprotoError) || err.errno !== Errno.ENODEV) throw err;
      }
    }
    return out;
  }

  /** A datapath port as this bridge reports it: with its OpenFlow number if it has an ofport here. */
  private toOfprotoPort(dp: DpifPort): OfprotoPort {
    const ofport = this.backer.odpToOfport.get(dp.portNo);
    return { name: dp.name, type: dp.type, ofpPort: ofport && this.ports.get(ofport.ofpPort) === ofport ? ofport.ofpPort : OFPP_NONE };
  }

  /** ofproto_port_query_by_name(). */
  async portQueryByName(name: string): Promise<OfprotoPort> {
    if (this.ghostPorts.has(name)) {
      // Asked before the ofport exists: the netdev layer knows the type.
      const type = this.env.provider.netdevs.typeFromName(name);
      if (type === undefined) throw new OfprotoError(Errno.ENODEV);
      return { name, type, ofpPort: this.portByName.get(name)?.ofpPort ?? OFPP_NONE };
    }
    if (!this.dpPorts.has(name)) throw new OfprotoError(Errno.ENODEV);
    return this.toOfprotoPort(await this.backer.dpif.portQueryByName(name));
  }

  /**
   * update_port(): make the ofport match what the datapath and netdev layers
   * say about `name` now — install it, refresh it, or remove it.
   */
  updatePort(name: string): Promise<void> {
    return span('ofproto', 'update_port', name, async () => {
      COVERAGE_OFPROTO_UPDATE_PORT.inc();
      let query: OfprotoPort | undefined;
      try {
        query = await this.portQueryByName(name);
      } catch (err) {
        if (!(err instanceof DpifError) && !(err instanceof OfprotoError)) throw err;
      }
      const opened = query ? await this.ofportOpen(query) : undefined;
      if (opened === undefined) {
        await this.ofportRemoveWithName(name);
        return;
      }
      const port = this.ports.get(opened.ofpPort);
      if (port && port.name === name) {
        // Same place: take the freshly opened netdev.
        const old = port.netdev;
        await this.updateMtu(port, opened.netdev);
        port.netdev = opened.netdev;
        this.env.provider.netdevs.close(old);
        return;
      }
      if (port) await this.ofportRemove(port);
      await this.ofportRemoveWithName(name);
      await this.ofportInstall(opened.netdev, opened.ofpPort);
    });
  }

  /**
   * ofport_open(): the port's netdev, and its OpenFlow number — LOCAL for
   * the port named like the bridge, else the one the datapath side knows,
   * else a new one. A netdev that cannot be opened: the port is ignored.
   */
  private async ofportOpen(port: OfprotoPort): Promise<{ netdev: Netdev; ofpPort: number } | undefined> {
    let netdev: Netdev;
    try {
      netdev = await this.env.provider.netdevs.open(port.name, port.type);
    } catch (err) {
      if (!(err instanceof DpifError)) throw err;
      this.log('WARN', 'ofproto', `${this.name}: ignoring port ${port.name} (${port.ofpPort}) because netdev ${port.name} cannot be opened (${err.text})`);
      return undefined;
    }
    let ofpPort = port.ofpPort;
    if (ofpPort === OFPP_NONE) {
      if (port.name === this.name) ofpPort = OFPP_LOCAL;
      else {
        ofpPort = this.allocOfpPort(port.name);
        if (ofpPort === OFPP_NONE) {
          this.log('WARN', 'ofproto', `${this.name}: failed to allocated ofp port number for ${port.name}.`);
          this.env.provider.netdevs.close(netdev);
          throw new OfprotoError(Errno.ENOSPC);
        }
      }
    }
    return { netdev, ofpPort };
  }

  /**
   * alloc_ofp_port(): the requested number if it is free, else the next
   * number after the last one given that was never used (or freed over an
   * hour ago), wrapping at 32768; failing that, the least recently freed.
   * The number counts as used from now on, even if the port then fails.
   */
  allocOfpPort(name: string): number {
    return spanSync(
      'ofproto',
      'alloc_ofp_port',
      name,
      () => {
        const requested = this.ofpRequests.get(name) || OFPP_NONE;
        let portNo = requested;
        if (portNo >= this.maxPorts || this.usage.get(portNo) === Infinity) {
          const end = this.allocPortNo;
          let lru = Infinity;
          let lruPort = 0;
          for (;;) {
            if (++this.allocPortNo >= Math.min(this.maxPorts, 32768)) this.allocPortNo = 1;
            const lastUsed = this.usage.get(this.allocPortNo);
            if (lastUsed === undefined) {
              portNo = this.allocPortNo;
              break;
            }
            if (lastUsed < this.now - REUSE_AFTER_MS) {
              this.usage.delete(this.allocPortNo);
              portNo = this.allocPortNo;
              break;
            }
            if (lastUsed < lru) {
              lru = lastUsed;
              lruPort = this.allocPortNo;
            }
            if (this.allocPortNo === end) {
              if (lruPort) {
                portNo = lruPort;
                break;
              }
              return OFPP_NONE;
            }
          }
        }
        this.usage.set(portNo, Infinity);
        return portNo;
      },
      (n) => `ofport ${n}`,
    );
  }

  /** dealloc_ofp_port(): the number is free from now (LOCAL is not tracked). */
  private deallocOfpPort(ofpPort: number): void {
    if (ofpPort < this.maxPorts) this.usage.set(ofpPort, this.now);
  }

  /** ofport_install(): the ofport, then the class's port_construct; on failure it is taken down again. */
  private ofportInstall(netdev: Netdev, ofpPort: number): Promise<void> {
    return span('ofproto', 'ofport_install', `${netdev.name} ofport ${ofpPort}`, async () => {
      const ofport: Ofport = { ofpPort, name: netdev.name, netdev, odpPort: undefined, tunnel: undefined, changeSeq: 0 };
      this.ports.set(ofpPort, ofport);
      this.portByName.set(ofport.name, ofport);
      try {
        await this.portConstruct(ofport);
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        if (errno === undefined) throw err;
        this.log('WARN', 'ofproto', `${this.name}: could not add port ${ofport.name} (${(err as OfprotoError).text})`);
        this.ofportDestroyInner(ofport);
        throw err;
      }
      await this.updateMtu(ofport, netdev);
    });
  }

  /**
   * ofport_is_mtu_overridden(): an internal or patch port whose MTU the user
   * did not ask for follows the bridge's other ports.
   */
  private mtuOverridden(netdev: Netdev): boolean {
    return (netdev.type === 'internal' || netdevVportIsPatch(netdev)) && !netdevMtuIsUserConfig(netdev);
  }

  /**
   * update_mtu(): after a port was installed or its netdev changed — an
   * overridden port is brought down to the minimum; another counts towards
   * it (update_mtu_ofproto).
   */
  private updateMtu(port: Ofport, netdev: Netdev): Promise<void> {
    return span('ofproto', 'update_mtu', port.name, async () => {
      this.uncountMtu(port);
      const mtu = await netdevGetMtu(this.env.provider.netdevs, netdev).catch(() => undefined);
      if (mtu === undefined) return;
      if (this.mtuOverridden(netdev)) {
        if (mtu > this.minMtu) await netdevSetMtu(this.env.provider, netdev, this.minMtu);
        return;
      }
      this.countedMtu.set(port, mtu);
      this.mtuCount.set(mtu, (this.mtuCount.get(mtu) ?? 0) + 1);
      await this.updateMtuOfproto();
    });
  }

  private uncountMtu(port: Ofport): void {
    const mtu = this.countedMtu.get(port);
    if (mtu === undefined) return;
    this.countedMtu.delete(port);
    const n = this.mtuCount.get(mtu)! - 1;
    if (n) this.mtuCount.set(mtu, n);
    else this.mtuCount.delete(mtu);
  }

  /** update_mtu_ofproto(): a new minimum (find_min_mtu) goes to every overridden port. */
  private async updateMtuOfproto(): Promise<void> {
    const old = this.minMtu;
    let min = 0;
    for (const mtu of this.mtuCount.keys()) if (!min || mtu < min) min = mtu;
    this.minMtu = min || ETH_PAYLOAD_MAX;
    if (this.minMtu === old) return;
    for (const p of this.ports.values()) if (this.mtuOverridden(p.netdev)) await netdevSetMtu(this.env.provider, p.netdev, this.minMtu);
  }

  private async ofportRemoveWithName(name: string): Promise<void> {
    const port = this.portByName.get(name);
    if (port) await this.ofportRemove(port);
  }

  /** ofport_remove() / ofport_destroy(port, del=true). */
  private ofportRemove(port: Ofport): Promise<void> {
    return span('ofproto', 'ofport_remove', `${port.name} ofport ${port.ofpPort}`, async () => {
      const counted = this.countedMtu.has(port);
      await this.portDestruct(port, true);
      this.ofportDestroyInner(port);
      if (counted) await this.updateMtuOfproto();
    });
  }

  /** ofport_destroy__(). */
  private ofportDestroyInner(port: Ofport): void {
    this.uncountMtu(port);
    this.deallocOfpPort(port.ofpPort);
    if (this.ports.get(port.ofpPort) === port) this.ports.delete(port.ofpPort);
    if (this.portByName.get(port.name) === port) this.portByName.delete(port.name);
    this.env.provider.netdevs.close(port.netdev);
  }

  // ---------------------------------------------------------------- ofproto-dpif.c

  /**
   * port_add() of ofproto-dpif (seed 004): patch ports are ghosts with no
   * datapath port; otherwise the datapath port (a tunnel's: its backer) is
   * added unless it exists; tunnels are ghosts on it. Returns the number of
   * a datapath port of its own that this call made.
   */
  private dpifPortAdd(netdev: Netdev): Promise<number | undefined> {
    return span('ofproto', 'port_add', `${netdev.name} (ofproto-dpif)`, async () => {
      if (netdevVportIsPatch(netdev)) {
        this.ghostPorts.add(netdev.name);
        return undefined;
      }
      const dpPortName = netdevVportGetDpifPort(netdev);
      const tunnel = netdevGetTunnelConfig(netdev);
      let added: number | undefined;
      if (!(await this.backer.portExists(dpPortName))) {
        added = await dpifPortAdd(this.env.provider, this.backer.dpif, netdev, netdevToSpec(netdev));
        if (tunnel) this.backer.tnlBackers.set(dpPortName, added);
      }
      if (tunnel) this.ghostPorts.add(netdev.name);
      else this.dpPorts.add(netdev.name);
      // A tunnel backer is shared; run() reclaims it when no tunnel uses it.
      return tunnel ? undefined : added;
    });
  }

  /** port_del() of ofproto-dpif: a port with a datapath port of its own loses it; ghosts just stop being ghosts. */
  private dpifPortDel(ofpPort: number): Promise<void> {
    return span('ofproto', 'port_del', `ofport ${ofpPort} (ofproto-dpif)`, async () => {
      const ofport = this.ports.get(ofpPort);
      if (!ofport) return;
      this.ghostPorts.delete(ofport.name);
      this.backer.needRevalidate = true;
      if (!ofport.tunnel && !netdevVportIsPatch(ofport.netdev) && ofport.odpPort !== undefined) {
        await this.backer.dpif.portDel(ofport.odpPort);
      }
    });
  }

  /**
   * port_construct(): the ofport's datapath port — a tunnel enters the
   * tunnel map (EEXIST if another has the same match), others the datapath
   * port -> ofport map.
   */
  private portConstruct(ofport: Ofport): Promise<void> {
    return span('ofproto', 'port_construct', ofport.name, async () => {
      this.backer.needRevalidate = true;
      if (netdevVportIsPatch(ofport.netdev)) return;
      const dpPortName = netdevVportGetDpifPort(ofport.netdev);
      const dp = await this.backer.dpif.portQueryByName(dpPortName);
      ofport.odpPort = dp.portNo;
      const tunnel = netdevGetTunnelConfig(ofport.netdev);
      if (tunnel) {
        const err = this.backer.tunnels.add(ofport.name, tunnel, dp.portNo);
        if (err) throw new OfprotoError(err);
        ofport.tunnel = tunnel;
        return;
      }
      if (this.backer.odpToOfport.has(dp.portNo)) {
        this.log('ERR', 'ofproto_dpif', `port ${dp.name} already has an OpenFlow port number`);
        throw new OfprotoError(Errno.EBUSY);
      }
      this.backer.odpToOfport.set(dp.portNo, ofport);
    });
  }

  /** port_destruct(): out of the maps; with `del`, a datapath port of its own that still exists is deleted. */
  private portDestruct(ofport: Ofport, del: boolean): Promise<void> {
    return span('ofproto', 'port_destruct', ofport.name, async () => {
      this.backer.needRevalidate = true;
      const dpPortName = netdevVportGetDpifPort(ofport.netdev);
      if (del && !ofport.tunnel && ofport.odpPort !== undefined && (await this.backer.portExists(dpPortName))) {
        await this.backer.dpif.portDel(ofport.odpPort).catch(() => {});
      }
      if (ofport.odpPort !== undefined && !ofport.tunnel && this.backer.odpToOfport.get(ofport.odpPort) === ofport)
        this.backer.odpToOfport.delete(ofport.odpPort);
      if (ofport.tunnel) this.backer.tunnels.del(ofport.name);
      this.dpPorts.delete(ofport.name);
      this.ghostPorts.delete(ofport.name);
    });
  }

  // ---------------------------------------------------------------- BackerClient

  *tunnelPorts(): Iterable<Ofport> {
    for (const p of this.ports.values()) if (p.tunnel) yield p;
  }

  ownsPort(devname: string): boolean {
    return this.dpPorts.has(devname);
  }

  portChanged(devname: string): void {
    this.pollSet.add(devname);
  }

  resync(): void {
    this.pollResync = true;
  }

  /**
   * ofproto_run(): the backer's run (tunnel backers, datapath port changes),
   * then update_port() for every port the datapath reported (all of them
   * after an overflow: reinit_ports()). Returns the names of the ports that
   * went away on the way (their devices vanished), for the bridge layer.
   */
  run(): Promise<string[]> {
    return span('ofproto', 'ofproto_run', this.name, async () => {
      await this.backer.run();
      if (this.pollResync) COVERAGE_OFPROTO_REINIT_PORTS.inc();
      const names = this.pollResync ? new Set([...this.portByName.keys(), ...this.dpPorts, ...this.ghostPorts]) : new Set(this.pollSet);
      this.pollResync = false;
      this.pollSet.clear();
      const gone: string[] = [];
      for (const name of names) {
        const had = this.portByName.has(name);
        await this.updatePort(name).catch(() => {});
        if (had && !this.portByName.has(name)) gone.push(name);
      }
      return gone;
    });
  }

  /**
   * ofproto_get_memory_usage(): "ports" (the LOCAL port included) into `usage`; "rules" would
   * count the flow tables' rules, which this ofproto has none of (no OpenFlow tables yet).
   */
  getMemoryUsage(usage: Map<string, number>): void {
    simapIncrease(usage, 'ports', this.ports.size);
  }

  /** ofproto_destroy(): every ofport goes (with its datapath port when `del`), then the backer reference. */
  async destroy(del = true): Promise<void> {
    for (const port of [...this.ports.values()]) {
      await this.portDestruct(port, del);
      this.ofportDestroyInner(port);
    }
    // Deleting a bridge reconciles the tunnel backers (one no tunnel needs goes); on exit without
    // --cleanup the datapath is left as it is, vxlan_sys_4789 and the like included, as OVS leaves it.
    if (del) {
      this.backer.needRevalidate = true;
      await this.backer.run();
    }
    // The last bridge of a datapath takes the datapath with it when deleted (del-br), not when the daemon exits.
    await this.backer.close(this, del);
  }
}
