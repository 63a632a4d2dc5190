/**
 * The vport classes in a NetdevRegistry: netdev_open() with sharing and
 * refcounts, netdev_set_config() with OVS 3.1's log lines and
 * Interface.error texts (the oracle's), get_config as dpif/show and
 * dpctl/show print it, datapath port names, patch peers.
 */
import { Errno, NetlinkProtocol, newFamilyTable } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { NlSock } from '@ovs/netlink-socket';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  NetdevConfigError,
  NetdevRegistry,
  formatTunnelConfig,
  netdevGetChangeSeq,
  netdevGetConfig,
  netdevGetTunnelConfig,
  netdevSetConfig,
  netdevToSpec,
  netdevVportGetDpifPort,
  netdevVportIsPatch,
  netdevVportPatchPeer,
  registerNetdevClasses,
} from './index.js';

let registry: NetdevRegistry;
let logs: string[];

beforeEach(async () => {
  const kernel = new Kernel();
  logs = [];
  const rtnl = new NlSock(await kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE }), newFamilyTable());
  registry = new NetdevRegistry(
    rtnl,
    async () => ({}),
    (level, module, text) => logs.push(`${module}|${level}|${text}`),
  );
  registerNetdevClasses(registry);
});

async function configure(name: string, type: string, options: Record<string, string>) {
  const dev = await registry.open(name, type);
  await netdevSetConfig(registry, dev, options);
  return dev;
}

async function refused(name: string, type: string, options: Record<string, string>): Promise<NetdevConfigError> {
  const dev = await registry.open(name, type);
  try {
    await netdevSetConfig(registry, dev, options);
  } catch (err) {
    expect(err).toBeInstanceOf(NetdevConfigError);
    return err as NetdevConfigError;
  }
  throw new Error('expected a refusal');
}

/** dpif/show's "(TYPE: k=v, ...)". */
function shown(type: string, config: Record<string, string>): string {
  const pairs = Object.entries(config).map(([k, v]) => `${k}=${v}`);
  return `(${type}${pairs.length ? `: ${pairs.join(', ')}` : ''})`;
}

describe('the oracle (OVS 3.1 port_types transcript)', () => {
  it('dpif/show lines of configured tunnels and patch ports', async () => {
    expect(shown('vxlan', netdevGetConfig(await configure('vxlan0', 'vxlan', { remote_ip: '192.0.2.1' })))).toBe('(vxlan: remote_ip=192.0.2.1)');
    expect(shown('vxlan', netdevGetConfig(await configure('vxlan1', 'vxlan', { remote_ip: '192.0.2.1', dst_port: '4790' })))).toBe(
      '(vxlan: dst_port=4790, remote_ip=192.0.2.1)',
    );
    expect(shown('geneve', netdevGetConfig(await configure('geneve0', 'geneve', { remote_ip: '192.0.2.1' })))).toBe('(geneve: remote_ip=192.0.2.1)');
    expect(shown('gre', netdevGetConfig(await configure('gre0', 'gre', { remote_ip: '192.0.2.1' })))).toBe('(gre: remote_ip=192.0.2.1)');
    expect(shown('patch', netdevGetConfig(await configure('patch-a', 'patch', { peer: 'patch-b' })))).toBe('(patch: peer=patch-b)');
    expect(logs).toEqual([]);
  });

  it('dpctl/show lines: the datapath-side objects are fresh (packet_type unknown, shown as ptap), their port from the name', async () => {
    const fresh = async (name: string, type: string) => `${name} ${shown(type, netdevGetConfig(await registry.open(name, type)))}`;
    expect(await fresh('vxlan_sys_4789', 'vxlan')).toBe('vxlan_sys_4789 (vxlan: packet_type=ptap)');
    expect(await fresh('vxlan_sys_4790', 'vxlan')).toBe('vxlan_sys_4790 (vxlan: dst_port=4790, packet_type=ptap)');
    expect(await fresh('genev_sys_6081', 'geneve')).toBe('genev_sys_6081 (geneve: packet_type=ptap)');
    expect(await fresh('gre_sys', 'gre')).toBe('gre_sys (gre: packet_type=ptap)');
  });

  it('vxlanbad: the netdev_vport WARN, the netdev WARN, and the Interface.error text', async () => {
    const err = await refused('vxlanbad', 'vxlan', {});
    expect(err.errno).toBe(Errno.EINVAL);
    expect(err.message).toBe("vxlanbad: vxlan type requires valid 'remote_ip' argument");
    expect(logs).toEqual([
      "netdev_vport|WARN|vxlanbad: vxlan type requires valid 'remote_ip' argument",
      'netdev|WARN|vxlanbad: could not set configuration (Invalid argument)',
    ]);
  });

  it('patch-x and patch-y: netdev_vport ERR, then the netdev WARN', async () => {
    expect((await refused('patch-x', 'patch', {})).message).toBe("patch-x: patch type requires valid 'peer' argument");
    expect((await refused('patch-y', 'patch', { peer: 'patch-y' })).message).toBe('patch-y: patch peer must not be self');
    expect(logs).toEqual([
      "netdev_vport|ERR|patch-x: patch type requires valid 'peer' argument",
      'netdev|WARN|patch-x: could not set configuration (Invalid argument)',
      'netdev_vport|ERR|patch-y: patch peer must not be self',
      'netdev|WARN|patch-y: could not set configuration (Invalid argument)',
    ]);
  });

  it('the tunnel WARN text of a duplicate vxlan3', async () => {
    const vx = await configure('vxlan3', 'vxlan', { remote_ip: '192.0.2.1' });
    expect(formatTunnelConfig(netdevGetTunnelConfig(vx)!, 5)).toBe('::->192.0.2.1, key=0, legacy_l2, dp port=5');
  });
});

describe('set_config', () => {
  it('warnings alone do not refuse: one WARN for all lines, the configuration taken', async () => {
    const dev = await configure('vx', 'vxlan', { remote_ip: '192.0.2.1', bogus: '1', tos: '3' });
    expect(logs).toEqual(["netdev_vport|WARN|vx: unknown vxlan argument 'bogus'\nvx: invalid TOS 3"]);
    expect(netdevGetConfig(dev)).toEqual({ remote_ip: '192.0.2.1' });
  });

  it('a refusal keeps the previous configuration', async () => {
    const dev = await configure('vx', 'vxlan', { remote_ip: '192.0.2.1' });
    await expect(netdevSetConfig(registry, dev, { remote_ip: '224.0.0.1' })).rejects.toThrow('vx: multicast remote_ip=224.0.0.1 not allowed');
    expect(netdevGetConfig(dev)).toEqual({ remote_ip: '192.0.2.1' });
  });

  it('a change bumps the change sequence number; the same configuration again does not', async () => {
    const dev = await registry.open('vx', 'vxlan');
    const s0 = netdevGetChangeSeq(dev);
    await netdevSetConfig(registry, dev, { remote_ip: '192.0.2.1' });
    const s1 = netdevGetChangeSeq(dev);
    expect(s1).toBeGreaterThan(s0);
    await netdevSetConfig(registry, dev, { remote_ip: '192.0.2.1' });
    expect(netdevGetChangeSeq(dev)).toBe(s1);
    await netdevSetConfig(registry, dev, { remote_ip: '192.0.2.1', key: '5' });
    expect(netdevGetChangeSeq(dev)).toBeGreaterThan(s1);
  });

  it('patch takes only peer', async () => {
    expect((await refused('p0', 'patch', { peer: 'p1', x: '1' })).message).toBe("p0: patch type takes only a 'peer' argument");
    const p = await configure('p2', 'patch', { peer: 'p3' });
    expect(netdevVportIsPatch(p)).toBe(true);
    expect(netdevVportPatchPeer(p)).toBe('p3');
  });

  it('devices of netdev-linux take no options: a warning only', async () => {
    const dev = await registry.open('br0', 'internal');
    await netdevSetConfig(registry, dev, { foo: 'bar' });
    expect(logs).toEqual(['netdev|WARN|br0: arguments provided to device that is not configurable']);
    expect(netdevGetConfig(dev)).toEqual({});
    expect(netdevGetTunnelConfig(dev)).toBeUndefined();
  });

  it('VXLAN-GBP and plain VXLAN never share a UDP port', async () => {
    await configure('a', 'vxlan', { remote_ip: '192.0.2.1', dst_port: '4800' });
    const err = await refused('b', 'vxlan', { remote_ip: '192.0.2.2', dst_port: '4800', exts: 'gbp' });
    expect(err).toMatchObject({ errno: Errno.EEXIST, message: "b: VXLAN-GBP, and non-VXLAN-GBP tunnels can't be configured on the same dst_port" });
    expect(logs.at(-1)).toBe('netdev|WARN|b: could not set configuration (File exists)');
    // On another port it is fine, and once 'a' is gone so is the conflict.
    await netdevSetConfig(registry, registry.get('b')!, { remote_ip: '192.0.2.2', dst_port: '4801', exts: 'gbp' });
    registry.close(registry.get('a')!);
    const c = await configure('c', 'vxlan', { remote_ip: '192.0.2.3', dst_port: '4800', exts: 'gbp' });
    expect(netdevToSpec(c)).toEqual({ name: 'c', type: 'vxlan', tunnel: { dstPort: 4800, gbp: true } });
  });
});

describe('datapath port names', () => {
  it('get_dpif_port: the UDP types with their port, gre without, others their own name', async () => {
    expect(netdevVportGetDpifPort(await configure('v', 'vxlan', { remote_ip: '192.0.2.1' }))).toBe('vxlan_sys_4789');
    expect(netdevVportGetDpifPort(await configure('g', 'geneve', { remote_ip: '192.0.2.1', dst_port: '6082' }))).toBe('genev_sys_6082');
    expect(netdevVportGetDpifPort(await configure('l', 'lisp', { remote_ip: '192.0.2.1' }))).toBe('lisp_sys_4341');
    expect(netdevVportGetDpifPort(await configure('s', 'stt', { remote_ip: '192.0.2.1' }))).toBe('stt_sys_7471');
    expect(netdevVportGetDpifPort(await configure('r', 'gre', { remote_ip: '192.0.2.1' }))).toBe('gre_sys');
    expect(netdevVportGetDpifPort(await configure('p', 'patch', { peer: 'q' }))).toBe('p');
    expect(netdevVportGetDpifPort(await registry.open('int0', 'internal'))).toBe('int0');
  });

  it('always within IFNAMSIZ: the longest prefix with the largest port is 15 characters', async () => {
    for (const type of ['vxlan', 'geneve', 'lisp', 'stt', 'gre']) {
      const name = netdevVportGetDpifPort(await configure(`${type}-max`, type, { remote_ip: '192.0.2.1', ...(type === 'gre' ? {} : { dst_port: '65535' }) }));
      expect(name.length).toBeLessThan(16);
    }
    expect(netdevVportGetDpifPort(registry.get('geneve-max')!)).toBe('genev_sys_65535');
  });

  it('netdevToSpec: what portAdd takes', async () => {
    expect(netdevToSpec(await configure('v1', 'vxlan', { remote_ip: '192.0.2.1', dst_port: '4790' }))).toEqual({
      name: 'v1',
      type: 'vxlan',
      tunnel: { dstPort: 4790 },
    });
    expect(netdevToSpec(await configure('r1', 'gre', { remote_ip: '192.0.2.1' }))).toEqual({ name: 'r1', type: 'gre', tunnel: {} });
    expect(netdevToSpec(await registry.open('i1', 'internal'))).toEqual({ name: 'i1', type: 'internal' });
  });
});

describe('the registry with the vport classes', () => {
  it('opens are shared and counted; the last close destroys', async () => {
    const a = await configure('vx', 'vxlan', { remote_ip: '192.0.2.1' });
    const b = await registry.open('vx', 'vxlan');
    expect(b).toBe(a);
    expect(a.refs).toBe(2);
    expect(netdevGetConfig(b)).toEqual({ remote_ip: '192.0.2.1' });
    registry.close(a);
    expect(registry.get('vx')).toBe(a);
    registry.close(b);
    expect(registry.get('vx')).toBeUndefined();
    const c = await registry.open('vx', 'vxlan');
    expect(c).not.toBe(a);
    expect(netdevGetConfig(c)).toEqual({ packet_type: 'ptap' });
  });

  it('another type under a taken name is EEXIST; unknown types EAFNOSUPPORT with the WARN', async () => {
    await registry.open('vx', 'vxlan');
    await expect(registry.open('vx', 'geneve')).rejects.toMatchObject({ errno: Errno.EEXIST });
    await expect(registry.open('foo0', 'foo')).rejects.toMatchObject({ errno: Errno.EAFNOSUPPORT });
    expect(logs).toEqual(['netdev|WARN|could not create netdev foo0 of unknown type foo']);
  });

  it('a class registers once per registry', () => {
    expect(() => registerNetdevClasses(registry)).toThrow();
    expect(logs).toEqual(['netdev|WARN|attempted to register duplicate netdev provider: geneve']);
  });

  it('each object gets its own random unicast, locally administered MAC', async () => {
    const { netdevGetEtheraddr } = await import('./index.js');
    const a = (await netdevGetEtheraddr(registry, await registry.open('va', 'vxlan')))!;
    const b = (await netdevGetEtheraddr(registry, await registry.open('vb', 'vxlan')))!;
    expect(a).toHaveLength(6);
    expect(a[0]! & 0x03).toBe(0x02);
    expect(a).not.toEqual(b);
  });
});
