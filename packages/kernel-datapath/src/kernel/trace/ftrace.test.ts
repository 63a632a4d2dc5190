/**
 * The kernel's function tracer: what a traced socket is told the kernel ran
 * for its requests. The expected call paths are Linux 6.1's own
 * (net/openvswitch/datapath.c ovs_vport_cmd_new -> new_vport ->
 * ovs_vport_add -> vport_ops->create; vport-netdev.c netdev_create ->
 * ovs_netdev_link; vport.c ovs_vport_del; vport-vxlan.c vxlan_create),
 * and the same over the daemon as in process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KernelTraceEvent, NLM_F, NetlinkProtocol, OVS_VPORT_CMD, OVS_VPORT_TYPE, encode, ovsVportFamily } from '@ovs/genl-codec';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { afterEach, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../tools/daemon.js';
import { Kernel } from '../../kernel.js';
import { TestClient } from '../../testing/index.js';

/** depth, layer, function[, note][, ret] as compact tuples, for readable expectations. */
type Ev = [number, string, string, string?, string?];
const compact = (events: KernelTraceEvent[]): Ev[] =>
  events.map((e) => {
    const t: Ev = [e.depth, e.layer, e.fn];
    if (e.note !== undefined || e.ret !== undefined) t.push(e.note);
    if (e.ret !== undefined) t.push(e.ret);
    return t;
  });

function setup(): { kernel: Kernel; client: TestClient; dp: number } {
  const kernel = new Kernel();
  kernel.initNet.addDevice({ name: 'veth0', kind: 'veth' });
  const client = new TestClient(kernel);
  const dp = client.newDatapath('ovs-system');
  return { kernel, client, dp };
}

describe('kernel function trace', () => {
  it('reports nothing to a socket that did not ask', () => {
    const { client, dp } = setup();
    client.newVport(dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
    expect(client.sock.takeKernelTrace()).toEqual([]);
  });

  it('OVS_VPORT_CMD_NEW of a netdev vport: handler, new_vport, ovs_vport_add, netdev_create, ovs_netdev_link', async () => {
    const { client, dp } = setup();
    await client.sock.setKernelTrace(true);
    client.newVport(dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
    expect(compact(client.sock.takeKernelTrace())).toEqual([
      [0, 'kernel', 'ovs_vport_cmd_new'],
      [1, 'kernel', 'new_vport', 'veth0'],
      [2, 'kernel', 'ovs_vport_add', 'type netdev port 1'],
      [3, 'vport', 'netdev_create', 'veth0'],
      [4, 'vport', 'ovs_netdev_link', 'veth0'],
      [5, 'vport', 'netdev_master_upper_dev_link', 'veth0 master ovs-system'],
      [5, 'vport', 'netdev_rx_handler_register', 'veth0'],
      [5, 'vport', 'dev_set_promiscuity', 'veth0 +1'],
      [1, 'kernel', 'genl_notify', 'multicast group 10, echo to the requester'],
    ]);
    // Taken once.
    expect(client.sock.takeKernelTrace()).toEqual([]);
  });

  it('a failure shows where it happened and what each caller returned', async () => {
    const { client, dp } = setup();
    client.newVport(dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
    await client.sock.setKernelTrace(true);
    const r = client.newVport(dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
    expect(TestClient.errno(r)).toBe(17);
    expect(compact(client.sock.takeKernelTrace())).toEqual([
      [0, 'kernel', 'ovs_vport_cmd_new', undefined, '-EEXIST'],
      [1, 'kernel', 'new_vport', 'veth0', '-EEXIST'],
      [2, 'kernel', 'ovs_vport_add', 'type netdev port 2', '-EEXIST'],
      [3, 'vport', 'netdev_create', 'veth0', '-EEXIST'],
      [4, 'vport', 'ovs_netdev_link', 'veth0', '-EEXIST'],
      [5, 'vport', 'netdev_master_upper_dev_link', 'veth0 master ovs-system'],
    ]);
  });

  it('an internal port registers its own device; deleting it runs ovs_dp_detach_port -> ovs_vport_del -> internal_dev_destroy', async () => {
    const { client, dp } = setup();
    await client.sock.setKernelTrace(true);
    client.newVport(dp, 'br0', OVS_VPORT_TYPE.INTERNAL);
    expect(compact(client.sock.takeKernelTrace()).map((e) => e.slice(0, 3))).toEqual([
      [0, 'kernel', 'ovs_vport_cmd_new'],
      [1, 'kernel', 'new_vport'],
      [2, 'kernel', 'ovs_vport_add'],
      [3, 'vport', 'internal_dev_create'],
      [4, 'vport', 'register_netdevice'],
      [1, 'kernel', 'genl_notify'],
    ]);
    client.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name: 'br0' }, { dpIfindex: dp });
    expect(compact(client.sock.takeKernelTrace()).map((e) => e.slice(0, 3))).toEqual([
      [0, 'kernel', 'ovs_vport_cmd_del'],
      [1, 'kernel', 'ovs_dp_detach_port'],
      [2, 'kernel', 'ovs_vport_del'],
      [3, 'vport', 'internal_dev_destroy'],
      [4, 'vport', 'unregister_netdevice'],
      [1, 'kernel', 'genl_notify'],
    ]);
  });

  it('the first vxlan vport loads vport-vxlan (request_module, -EAGAIN, restart), then vxlan_create makes the device', async () => {
    const { client, dp } = setup();
    await client.sock.setKernelTrace(true);
    client.newVport(dp, 'vxlan_sys_4789', OVS_VPORT_TYPE.VXLAN, { options: { dstPort: 4789 } });
    expect(compact(client.sock.takeKernelTrace()).map((e) => e.slice(0, 3).concat(e[4] ?? []))).toEqual([
      [0, 'kernel', 'ovs_vport_cmd_new'],
      [1, 'kernel', 'new_vport', '-EAGAIN'],
      [2, 'kernel', 'ovs_vport_add', '-EAGAIN'],
      [3, 'kernel', 'request_module'],
      [1, 'kernel', 'new_vport'],
      [2, 'kernel', 'ovs_vport_add'],
      [3, 'vport', 'vxlan_create'],
      [4, 'vport', 'vxlan_dev_create'],
      [4, 'vport', 'register_netdevice'],
      [4, 'vport', 'ovs_netdev_link'],
      [5, 'vport', 'netdev_master_upper_dev_link'],
      [5, 'vport', 'netdev_rx_handler_register'],
      [5, 'vport', 'dev_set_promiscuity'],
      [1, 'kernel', 'genl_notify'],
    ]);
  });

  it('turning it off stops the reports', async () => {
    const { client, dp } = setup();
    await client.sock.setKernelTrace(true);
    await client.sock.setKernelTrace(false);
    client.newVport(dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
    expect(client.sock.takeKernelTrace()).toEqual([]);
  });

  describe('over the daemon', () => {
    let dir: string | undefined;
    let daemon: Daemon | undefined;
    afterEach(async () => {
      await daemon?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      daemon = undefined;
      dir = undefined;
    });

    it('the same events reach the client, before the reply they produced', async () => {
      // The in-process reference.
      const ref = setup();
      await ref.client.sock.setKernelTrace(true);
      ref.client.newVport(ref.dp, 'veth0', OVS_VPORT_TYPE.NETDEV);
      const expected = ref.client.sock.takeKernelTrace();

      const { kernel, dp } = setup();
      dir = mkdtempSync(join(tmpdir(), 'ftrace-'));
      daemon = await startDaemon({ socketPath: join(dir, 'k.sock'), kernel });
      const sock = await connectUnixNetlink(join(dir, 'k.sock'), { protocol: NetlinkProtocol.NETLINK_GENERIC });
      try {
        await sock.setKernelTrace(true);
        const bytes = encode({
          kind: 'genl',
          protocol: NetlinkProtocol.NETLINK_GENERIC,
          header: { len: 0, type: kernel.genl.find('ovs_vport')!.id, flags: NLM_F.REQUEST | NLM_F.ECHO, seq: 1, pid: sock.portId },
          family: ovsVportFamily,
          cmd: OVS_VPORT_CMD.NEW,
          version: 2,
          reserved: 0,
          dpIfindex: dp,
          attrs: { type: OVS_VPORT_TYPE.NETDEV, name: 'veth0', upcallPid: [1] },
        });
        await sock.send(bytes);
        // send() resolves once the daemon has answered: events and reply are both here.
        expect(sock.takeKernelTrace()).toEqual(expected);
        await sock.recv();
        await sock.setKernelTrace(false);
        await sock.send(bytes);
        expect(sock.takeKernelTrace()).toEqual([]);
      } finally {
        await sock.close();
      }
    });
  });
});
