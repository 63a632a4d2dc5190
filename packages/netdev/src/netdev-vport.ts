/**
 * lib/netdev-vport.c: the tunnel classes (vxlan, geneve, gre, lisp, stt)
 * and the patch class, registered into a NetdevRegistry. Each object keeps
 * struct netdev_vport's state in its class slot: a random MAC, and the
 * tunnel configuration (tunnel-config.ts reads and prints it) or the patch
 * peer.
 */
import { randomBytes } from 'node:crypto';
import { Errno } from '@ovs/genl-codec';
import { atoi } from './cnum.js';
import { NetdevConfigError } from './errors.js';
import type { Netdev, NetdevClass, NetdevRegistry } from './netdev.js';
import {
  DEFAULT_DST_PORT,
  DEFAULT_TTL,
  type TunnelConfig,
  needsDstPort,
  parseTunnelConfig,
  sameTunnelConfig,
  sortKeys,
  tunnelGetConfig,
  zeroTunnelConfig,
} from './tunnel-config.js';

/**
 * struct vport_class's dpif_port: the prefix of the datapath port (and
 * device) dpif-netlink makes for each tunnel type OVS knows, by type
 * (netdev_vport_tunnel_register()'s table; patch has none).
 */
const DPIF_PORTS: Readonly<Record<string, string>> = {
  geneve: 'genev_sys',
  gre: 'gre_sys',
  vxlan: 'vxlan_sys',
  lisp: 'lisp_sys',
  stt: 'stt_sys',
  erspan: 'erspan_sys',
  ip6erspan: 'ip6erspan_sys',
  ip6gre: 'ip6gre_sys',
  gtpu: 'gtpu_sys',
  bareudp: 'udp_sys',
};

/** The vport types: the tunnels and patch (what opens even without a registered class). */
export const VPORT_TYPES: ReadonlySet<string> = new Set([...Object.keys(DPIF_PORTS), 'patch']);

/** netdev_vport_type_from_name(): the tunnel type of a device named by dpif-netlink (vxlan_sys_4789, gre_sys...). */
export function netdevVportTypeFromName(name: string): string | undefined {
  return Object.keys(DPIF_PORTS).find((type) => name.startsWith(DPIF_PORTS[type]!));
}

/**
 * How netdev_vport_get_dpif_port() names a tunnel's datapath port:
 * vxlan_sys_4789 for the UDP types (the type's default port when none is
 * given), gre_sys; undefined for types with no datapath port of their own.
 * The prefixes leave room for any port number within IFNAMSIZ (16 with the
 * NUL).
 */
export function netdevVportDpifPortName(type: string, dstPort: number | undefined): string | undefined {
  const prefix = DPIF_PORTS[type];
  if (prefix === undefined || !needsDstPort(type)) return prefix;
  return `${prefix}_${dstPort ?? DEFAULT_DST_PORT[type] ?? 0}`;
}

/** struct netdev_vport: what every vport object keeps. */
export interface VportState {
  /** eth_addr_random(): made up at construction, settable. */
  etheraddr: Uint8Array;
  /** Tunnels: the configuration in force. */
  cfg?: TunnelConfig;
  /** Patch ports: the peer's name once configured. */
  peer?: string;
  /** The counters the userspace datapath adds (netdev_vport_inc_rx/tx); zero here. */
  stats: { rxPackets: bigint; txPackets: bigint; rxBytes: bigint; txBytes: bigint };
}

/** struct vport_class: a netdev class with the datapath port name prefix (NULL for patch). */
export class VportClass implements NetdevClass {
  /**
   * global_cfg_tracker: how many vxlan objects use each UDP port with and
   * without GBP ("dst_port_4789", "dst_port_4789_gbp"), so that one port is
   * never asked to carry both.
   */
  private readonly tracker = new Map<string, number>();

  constructor(
    readonly type: string,
    /** genev_sys, vxlan_sys, ... */
    readonly dpifPort: string | undefined,
    private readonly registry: NetdevRegistry,
  ) {}

  get isTunnel(): boolean {
    return this.dpifPort !== undefined;
  }

  /** netdev_vport_construct(): a tunnel's UDP port comes from a name like vxlan_sys_4790, else the type's default. */
  construct(dev: Netdev): void {
    const state: VportState = { etheraddr: randomMac(), stats: { rxPackets: 0n, txPackets: 0n, rxBytes: 0n, txBytes: 0n } };
    dev.classState = state;
    if (!this.isTunnel) return;
    const prefix = this.dpifPort!;
    const port = dev.name.length > prefix.length + 1 && dev.name.startsWith(prefix) ? atoi(dev.name.slice(prefix.length + 1)) & 0xffff : 0;
    const cfg = zeroTunnelConfig();
    cfg.dstPort = this.type === 'bareudp' ? port : port || (DEFAULT_DST_PORT[this.type] ?? 0);
    cfg.dontFragment = true;
    cfg.ttl = DEFAULT_TTL;
    state.cfg = cfg;
    this.track(undefined, cfg);
  }

  destruct(dev: Netdev): void {
    const cfg = tunnelState(dev)?.cfg;
    if (cfg) this.track(cfg, undefined);
  }

  setConfig(dev: Netdev, args: Record<string, string>): void {
    if (!this.isTunnel) return setPatchConfig(this.registry, dev, vportState(dev), args);
    const log = this.registry.log;
    const parsed = parseTunnelConfig(dev.name, this.type, args, (level, module, text) => log(level, module, text));
    const state = vportState(dev);
    let { errno } = parsed;
    if (!errno && this.concomitantVxlan(state.cfg!, parsed.cfg)) {
      parsed.errors.push(`${dev.name}: VXLAN-GBP, and non-VXLAN-GBP tunnels can't be configured on the same dst_port`);
      errno = Errno.EEXIST;
    }
    // One WARN for all the lines; only a refusal makes them the error text.
    if (parsed.errors.length) log('WARN', 'netdev_vport', parsed.errors.join('\n'));
    if (errno) throw new NetdevConfigError(errno, parsed.errors.join('\n'));
    this.track(state.cfg, parsed.cfg);
    if (!sameTunnelConfig(state.cfg!, parsed.cfg)) {
      state.cfg = parsed.cfg;
      dev.changed();
    }
  }

  getConfig(dev: Netdev): Record<string, string> {
    const state = vportState(dev);
    if (state.cfg) return tunnelGetConfig(this.type, state.cfg);
    return state.peer === undefined ? {} : sortKeys({ peer: state.peer });
  }

  /** update_vxlan_global_cfg(): move one count from the old (port, gbp) to the new. */
  private track(old: TunnelConfig | undefined, cfg: TunnelConfig | undefined): void {
    if (this.type !== 'vxlan') return;
    if (old && cfg && old.dstPort === cfg.dstPort && sameExts(old, cfg)) return;
    if (old) {
      const k = trackerKey(old.dstPort, old.exts.gbp);
      const n = this.tracker.get(k) ?? 0;
      if (n > 1) this.tracker.set(k, n - 1);
      else this.tracker.delete(k);
    }
    if (cfg) {
      const k = trackerKey(cfg.dstPort, cfg.exts.gbp);
      this.tracker.set(k, (this.tracker.get(k) ?? 0) + 1);
    }
  }

  /** is_concomitant_vxlan_tunnel_present(): would this change put GBP and non-GBP vxlan on one UDP port? */
  private concomitantVxlan(cur: TunnelConfig, next: TunnelConfig): boolean {
    if (this.type !== 'vxlan') return false;
    const count = (port: number, gbp: boolean): number => this.tracker.get(trackerKey(port, gbp)) ?? 0;
    if (cur.dstPort === next.dstPort && cur.exts.gbp === next.exts.gbp) {
      // Unchanged: only the default port, where every object starts, can clash.
      return cur.dstPort === DEFAULT_DST_PORT.vxlan && count(next.dstPort, !next.exts.gbp) > 0;
    }
    // Same port, GBP flipped: fine only if nobody else keeps the old flavour.
    if (cur.dstPort === next.dstPort) return count(cur.dstPort, cur.exts.gbp) > 1;
    return count(next.dstPort, !next.exts.gbp) > 0;
  }
}

/**
 * set_patch_config(): exactly one option, `peer`, naming another port that
 * is not itself. Refusals are logged at ERR, as OVS's VLOG_ERR_BUF does.
 */
function setPatchConfig(registry: NetdevRegistry, dev: Netdev, state: VportState, args: Record<string, string>): void {
  const peer = args.peer;
  const problem =
    peer === undefined
      ? "patch type requires valid 'peer' argument"
      : Object.keys(args).length > 1
        ? "patch type takes only a 'peer' argument"
        : peer === dev.name
          ? 'patch peer must not be self'
          : undefined;
  if (problem !== undefined || peer === undefined) {
    const line = `${dev.name}: ${problem}`;
    registry.log('ERR', 'netdev_vport', line);
    throw new NetdevConfigError(Errno.EINVAL, line);
  }
  if (state.peer !== peer) {
    state.peer = peer;
    dev.changed();
  }
}

function trackerKey(port: number, gbp: boolean): string {
  return `dst_port_${port}${gbp ? '_gbp' : ''}`;
}

function sameExts(a: TunnelConfig, b: TunnelConfig): boolean {
  return a.exts.gbp === b.exts.gbp && a.exts.gpe === b.exts.gpe && a.exts.multiproto === b.exts.multiproto;
}

/** eth_addr_random(): random, unicast, locally administered. */
function randomMac(): Uint8Array {
  const mac = new Uint8Array(randomBytes(6));
  mac[0] = (mac[0]! & ~0x01) | 0x02;
  return mac;
}

/** The tunnel classes of netdev_vport_tunnel_register() this package provides. */
const TUNNELS = ['geneve', 'gre', 'vxlan', 'lisp', 'stt'];

/** netdev_vport_tunnel_register() + netdev_vport_patch_register(): vxlan, geneve, gre, lisp, stt and patch. */
export function registerNetdevClasses(registry: NetdevRegistry): void {
  for (const type of TUNNELS) registry.registerClass(new VportClass(type, DPIF_PORTS[type], registry));
  registry.registerClass(new VportClass('patch', undefined, registry));
}

function vportState(dev: Netdev): VportState {
  return dev.classState as VportState;
}

/** The vport state of a netdev of a vport class, else undefined. */
export function tunnelState(dev: Netdev): VportState | undefined {
  return dev.netdevClass instanceof VportClass ? vportState(dev) : undefined;
}

/** netdev_get_tunnel_config(): a copy of the configuration in force; undefined for non-tunnels. */
export function netdevGetTunnelConfig(netdev: Netdev): TunnelConfig | undefined {
  const cfg = tunnelState(netdev)?.cfg;
  return cfg && { ...cfg, exts: { ...cfg.exts } };
}

/** netdev_vport_get_dpif_port(): a tunnel's datapath port (see netdevVportDpifPortName), else the netdev's own name. */
export function netdevVportGetDpifPort(netdev: Netdev): string {
  const cls = netdev.netdevClass;
  if (!(cls instanceof VportClass) || !cls.isTunnel) return netdev.name;
  return netdevVportDpifPortName(netdev.type, vportState(netdev).cfg!.dstPort) ?? netdev.name;
}

/** netdev_vport_is_patch(). */
export function netdevVportIsPatch(netdev: Netdev): boolean {
  const cls = netdev.netdevClass;
  return cls instanceof VportClass && !cls.isTunnel;
}

/** netdev_vport_patch_peer(): the configured peer of a patch port. */
export function netdevVportPatchPeer(netdev: Netdev): string | undefined {
  return netdevVportIsPatch(netdev) ? vportState(netdev).peer : undefined;
}
