/**
 * netdev_linux_run(): a NETLINK_ROUTE socket subscribed to RTNLGRP_LINK;
 * each RTM_NEWLINK / RTM_DELLINK about a Linux netdev of the registry
 * refreshes its cached state and bumps its change sequence number (what
 * ofproto and the bridge poll to notice a port changed). A receive queue
 * overrun (ENOBUFS) makes every Linux netdev start over from the kernel.
 */
import { type Netdev, type NetdevRegistry } from '@ovs/dpif-netlink';
import { Errno, IFF, NetlinkErrnoError, NetlinkProtocol, type NetlinkSocket, RTM, RTNLGRP, type RtnlLinkMessage, decode, newFamilyTable } from '@ovs/genl-codec';
import { invalidateLinuxCache } from './netdev-linux-extras.js';

export class LinkWatcher {
  private readonly families = newFamilyTable();

  private constructor(
    private readonly registry: NetdevRegistry,
    private readonly sock: NetlinkSocket,
  ) {}

  /** netdev_linux_notify_sock(): the socket (NETLINK_ROUTE, owned by the watcher from now on) joins RTNLGRP_LINK. */
  static async open(registry: NetdevRegistry, sock: NetlinkSocket): Promise<LinkWatcher> {
    if (!sock.tryRecv) throw new TypeError('LinkWatcher needs a socket that can be polled (tryRecv)');
    await sock.joinGroup(RTNLGRP.LINK);
    return new LinkWatcher(registry, sock);
  }

  /** Handle every notification queued now, without waiting. Returns the netdevs whose state changed. */
  async run(): Promise<Netdev[]> {
    const changed = new Set<Netdev>();
    for (;;) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = this.sock.tryRecv!();
      } catch (err) {
        if (!(err instanceof NetlinkErrnoError) || err.errno !== Errno.ENOBUFS) throw err;
        // nl_sock_drain(): what is still queued predates the loss; the kernel is asked afresh instead.
        this.drain();
        for (const dev of await this.resync()) changed.add(dev);
        continue;
      }
      if (datagram === undefined) return [...changed];
      const r = decode(datagram, { protocol: NetlinkProtocol.NETLINK_ROUTE, families: this.families });
      if (!r.ok) continue; // not something rtnetlink_parse() would take
      for (const m of r.messages) {
        if (m.kind !== 'rtnl' || m.family !== 'link' || (m.header.type !== RTM.NEWLINK && m.header.type !== RTM.DELLINK)) continue;
        const dev = await this.update(m);
        if (dev) changed.add(dev);
      }
    }
  }

  private drain(): void {
    for (;;) {
      try {
        if (this.sock.tryRecv!() === undefined) return;
      } catch (err) {
        if (!(err instanceof NetlinkErrnoError) || err.errno !== Errno.ENOBUFS) throw err;
      }
    }
  }

  close(): Promise<void> {
    return this.sock.close();
  }

  /** netdev_linux_update(): only for a Linux netdev known to be in this namespace. */
  private async update(m: RtnlLinkMessage): Promise<Netdev | undefined> {
    // Wireless extension events change nothing (rtnetlink_parse marks them irrelevant).
    if (m.attrs.wireless && m.ifinfomsg.change === 0) return undefined;
    const index = m.ifinfomsg.index;
    const dev = m.attrs.ifname !== undefined ? this.registry.get(m.attrs.ifname) : this.registry.all().find((d) => d.ifindex === index);
    if (!dev?.isLinux) return undefined;
    await this.registry.netnsidUpdate(dev);
    if (dev.netnsid !== 'local') return undefined;
    const flags = m.ifinfomsg.flags;
    if (m.header.type === RTM.NEWLINK) {
      // The driver (and addresses) survive; MTU, MAC and ifindex are the message's.
      this.changed(dev, flags, true);
      dev.mtu = m.attrs.mtu || undefined;
      const mac = m.attrs.address;
      dev.mac = mac?.length === 6 && mac.some((b) => b !== 0) ? mac : undefined;
      dev.ifindex = index;
    } else {
      this.changed(dev, flags, false);
      dev.netnsid = 'unset';
    }
    return dev;
  }

  /** netdev_linux_changed(): new seq, carrier resets counted, caches dropped (all but the driver if `keepDriver`). */
  private changed(dev: Netdev, flags: number, keepDriver: boolean): void {
    dev.changed();
    if (((dev.ifiFlags ?? 0) ^ flags) & IFF.RUNNING) dev.carrierResets++;
    dev.ifiFlags = flags;
    dev.mtu = undefined;
    dev.mac = undefined;
    dev.ifindex = undefined;
    invalidateLinuxCache(dev, keepDriver);
    if (!keepDriver) this.registry.flushAddrs();
  }

  /** After an overrun: each Linux netdev's flags afresh, everything else forgotten. */
  private async resync(): Promise<Netdev[]> {
    const devs = this.registry.all().filter((d) => d.isLinux);
    for (const dev of devs) {
      const flags = await this.registry.getLink(dev.name).then(
        (l) => l.ifinfomsg.flags,
        () => 0,
      );
      this.changed(dev, flags, false);
    }
    return devs;
  }
}
