/**
 * ovs-vsctl's in-memory view of bridges, ports and interfaces by name
 * (vsctl_context_populate_cache): the bridge/port commands look names up
 * here, so that their errors are the real tool's ("a port named X already
 * exists on bridge br0", "no bridge named X"). Built from the transaction's
 * view of Open_vSwitch.bridges → Bridge.ports → Port.interfaces; the first
 * bridge/port/interface of a duplicated name wins, as in the real tool.
 *
 * Fake (VLAN) bridges: a Port with fake_bridge=true and a tag in 0...4095 is
 * a bridge of its own, child of the real bridge holding it, on VLAN `tag`;
 * the parent's ports carrying that tag belong to it (add_port_to_cache()).
 */
import type { Row, Txn } from './txn.js';

export interface CachedBridge {
  /** The Bridge row; undefined for a fake bridge (its Port is in `ports`). */
  cfg?: Row;
  name: string;
  ports: CachedPort[];
  /** A fake bridge's real bridge. */
  parent?: CachedBridge;
  /** VLAN VID (0...4095) of a fake bridge, 0 for a real one. */
  vlan: number;
  /** A real bridge's fake bridges, by VLAN. */
  children: Map<number, CachedBridge>;
}

export interface CachedPort {
  cfg: Row;
  name: string;
  bridge: CachedBridge;
  ifaces: CachedIface[];
}

export interface CachedIface {
  cfg: Row;
  name: string;
  port: CachedPort;
}

/** port_is_fake_bridge(). */
export function portIsFakeBridge(txn: Txn, port: Row): boolean {
  if (txn.scalar(port, 'fake_bridge') !== true) return false;
  const tag = txn.scalar(port, 'tag') as number | undefined;
  return tag !== undefined && tag >= 0 && tag <= 4095;
}

export class VsctlCache {
  readonly bridges = new Map<string, CachedBridge>();
  readonly ports = new Map<string, CachedPort>();
  readonly ifaces = new Map<string, CachedIface>();

  constructor(
    private readonly txn: Txn,
    ovs: Row,
  ) {
    const name = (r: Row) => String(txn.scalar(r, 'name') ?? '');
    const brRows: Row[] = [];
    for (const bu of txn.read(ovs, 'bridges').keys) {
      const br = txn.get('Bridge', bu as string);
      if (br) brRows.push(br);
    }
    // First pass: real bridges, and the fake bridges their ports stand for.
    let bridgeNames = new Set<string>();
    const portNames = new Set<string>();
    for (const br of brRows) {
      if (bridgeNames.has(name(br))) continue;
      bridgeNames.add(name(br));
      const bridge = this.addBridge(br, name(br), undefined, 0);
      for (const pu of txn.read(br, 'ports').keys) {
        const p = txn.get('Port', pu as string);
        if (!p || portNames.has(name(p))) continue;
        portNames.add(name(p));
        if (portIsFakeBridge(txn, p) && !bridgeNames.has(name(p))) {
          bridgeNames.add(name(p));
          this.addBridge(undefined, name(p), bridge, txn.scalar(p, 'tag') as number);
        }
      }
    }
    // Second pass: ports and interfaces.
    bridgeNames = new Set();
    for (const br of brRows) {
      if (bridgeNames.has(name(br))) continue;
      bridgeNames.add(name(br));
      const bridge = this.bridges.get(name(br))!;
      for (const pu of txn.read(br, 'ports').keys) {
        const p = txn.get('Port', pu as string);
        if (!p || this.ports.has(name(p))) continue;
        if (portIsFakeBridge(txn, p)) {
          if (bridgeNames.has(name(p))) continue;
          bridgeNames.add(name(p));
        }
        const port = this.addPort(bridge, p, name(p));
        for (const iu of txn.read(p, 'interfaces').keys) {
          const i = txn.get('Interface', iu as string);
          if (!i || this.ifaces.has(name(i))) continue;
          this.addIface(port, i, name(i));
        }
      }
    }
  }

  /** add_bridge_to_cache(). A second VLAN bridge on the same VLAN is a bridge, but not its parent's child. */
  addBridge(cfg: Row | undefined, name: string, parent: CachedBridge | undefined, vlan: number): CachedBridge {
    const br: CachedBridge = { cfg, name, ports: [], parent, vlan, children: new Map() };
    if (parent && !parent.children.has(vlan)) parent.children.set(vlan, br);
    this.bridges.set(name, br);
    return br;
  }

  /** add_port_to_cache(): a port whose tag is a fake bridge's VLAN belongs to that fake bridge. */
  addPort(bridge: CachedBridge, cfg: Row, name: string): CachedPort {
    const tag = this.txn.scalar(cfg, 'tag') as number | undefined;
    if (tag !== undefined && tag >= 0 && tag <= 4095) bridge = bridge.children.get(tag) ?? bridge;
    const port: CachedPort = { cfg, name, bridge, ifaces: [] };
    bridge.ports.push(port);
    this.ports.set(name, port);
    return port;
  }

  addIface(port: CachedPort, cfg: Row, name: string): CachedIface {
    const iface: CachedIface = { cfg, name, port };
    port.ifaces.push(iface);
    this.ifaces.set(name, iface);
    return iface;
  }

  delIface(iface: CachedIface): void {
    iface.port.ifaces = iface.port.ifaces.filter((i) => i !== iface);
    this.ifaces.delete(iface.name);
  }

  delPort(port: CachedPort): void {
    for (const i of port.ifaces) this.ifaces.delete(i.name);
    port.bridge.ports = port.bridge.ports.filter((p) => p !== port);
    this.ports.delete(port.name);
  }

  /** del_cached_bridge() (the rows are the caller's). */
  delBridge(br: CachedBridge): void {
    if (br.parent && br.parent.children.get(br.vlan) === br) br.parent.children.delete(br.vlan);
    this.bridges.delete(br.name);
  }
}
