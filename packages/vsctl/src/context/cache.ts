/**
 * ovs-vsctl's in-memory view of bridges, ports and interfaces by name
 * (vsctl_context_populate_cache): the bridge/port commands look names up
 * here, so that their errors are the real tool's ("a port named X already
 * exists on bridge br0", "no bridge named X"). Built from the transaction's
 * view of Open_vSwitch.bridges → Bridge.ports → Port.interfaces; the first
 * bridge/port/interface of a duplicated name wins, as in the real tool.
 *
 * Fake (VLAN) bridges are not modelled: a Port with fake_bridge=true is an
 * ordinary port here.
 */
import type { Row, Txn } from './txn.js';

export interface CachedBridge {
  cfg: Row;
  name: string;
  ports: CachedPort[];
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

export class VsctlCache {
  readonly bridges = new Map<string, CachedBridge>();
  readonly ports = new Map<string, CachedPort>();
  readonly ifaces = new Map<string, CachedIface>();

  constructor(txn: Txn, ovs: Row) {
    const name = (r: Row) => String(txn.scalar(r, 'name') ?? '');
    for (const bu of txn.read(ovs, 'bridges').keys) {
      const br = txn.get('Bridge', bu as string);
      if (!br || this.bridges.has(name(br))) continue;
      const bridge: CachedBridge = { cfg: br, name: name(br), ports: [] };
      this.bridges.set(bridge.name, bridge);
      for (const pu of txn.read(br, 'ports').keys) {
        const p = txn.get('Port', pu as string);
        if (!p || this.ports.has(name(p))) continue;
        const port = this.addPort(bridge, p, name(p));
        for (const iu of txn.read(p, 'interfaces').keys) {
          const i = txn.get('Interface', iu as string);
          if (!i || this.ifaces.has(name(i))) continue;
          this.addIface(port, i, name(i));
        }
      }
    }
  }

  addPort(bridge: CachedBridge, cfg: Row, name: string): CachedPort {
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

  delPort(port: CachedPort): void {
    for (const i of port.ifaces) this.ifaces.delete(i.name);
    port.bridge.ports = port.bridge.ports.filter((p) => p !== port);
    this.ports.delete(port.name);
  }
}
