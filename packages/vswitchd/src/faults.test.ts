/**
 * Faults injected into the kernel (the model's fault points: failslab,
 * fail_request_module, fail_netlink_create) under a running ovs-vswitchd.
 * What OVS does with a failing iface_create(): Interface.ofport -1 and
 * Interface.error "could not add network device NAME to ofproto (STRERROR)"
 * (bridge.c iface_do_create, ovs_strerror of the errno), the interface
 * retried on every later reconfiguration; once the fault is gone the state
 * converges. The kernel unwinds a failed request (no datapath, vport,
 * device or socket left), and so must userspace.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelRig } from './testing/kernel-rig.js';

let rig: KernelRig;
beforeEach(async () => {
  rig = await KernelRig.start();
  await rig.startVswitchd();
  expect(await rig.vsctl('add-br', 'br0')).toEqual({ code: 0, stderr: '' });
});
afterEach(async () => {
  await rig.close();
});

const faults = () => rig.daemon.kernel.faults;
const cantAdd = (name: string, text: string) => ({ ofport: -1, error: `could not add network device ${name} to ofproto (${text})` });
const vsctlError = (name: string, text: string) =>
  `ovs-vsctl: Error detected while setting up '${name}': could not add network device ${name} to ofproto (${text}).  See ovs-vswitchd log for details.`;

/** The kernel holds nothing but what the database configures: a vport per port, a device per vport (and lo). */
function expectNoLeak(ports: string[]): void {
  expect([...rig.vports().keys()].sort()).toEqual(['ovs-system', ...ports].sort());
  expect(rig.devices()).toEqual(['lo', 'ovs-system', ...ports].sort());
}

describe('faults injected under a running ovs-vswitchd', () => {
  it('allocations failing (failslab): each port is reported as OVS words it and retried; after the fault, the state converges', async () => {
    const sockets = [...rig.daemon.kernel.openSockets].length;
    faults().set('failslab', { probability: 100, interval: 1, times: -1 });
    const a = await rig.vsctl('add-port', 'br0', 'i0', '--', 'set', 'Interface', 'i0', 'type=internal');
    expect(a.code).toBe(0);
    expect(a.stderr.split('\n')[0]).toBe(vsctlError('i0', 'Cannot allocate memory'));
    // A tunnel: its device cannot be allocated (RTM_NEWLINK), nor its compat vport.
    const b = await rig.vsctl('add-port', 'br0', 'vx0', '--', 'set', 'Interface', 'vx0', 'type=vxlan', 'options:remote_ip=192.0.2.1');
    expect(b.stderr.split('\n')[0]).toBe(vsctlError('vx0', 'Cannot allocate memory'));
    expect(rig.interfaces().get('i0')).toEqual(cantAdd('i0', 'Cannot allocate memory'));
    expect(
      faults()
        .show()
        .find((p) => p.point === 'failslab')!.injected,
    ).toBeGreaterThanOrEqual(3);
    expectNoLeak(['br0']);

    // Retried on the next reconfiguration: still failing while the fault lasts.
    const c = await rig.vsctl('set', 'Bridge', 'br0', 'external_ids:x=1');
    expect(c.code).toBe(0);
    expect(rig.interfaces().get('i0')).toEqual(cantAdd('i0', 'Cannot allocate memory'));

    faults().clear();
    expect((await rig.vsctl('set', 'Bridge', 'br0', 'external_ids:x=2')).code).toBe(0);
    await rig.until('converged', () => [...rig.interfaces().values()].every((s) => s.error === null));
    const ifs = rig.interfaces();
    expect(new Set([ifs.get('i0')!.ofport, ifs.get('vx0')!.ofport]).size).toBe(2);
    expect(ifs.get('i0')!.ofport).toBeGreaterThan(0);
    expect(ifs.get('vx0')!.ofport).toBeGreaterThan(0);
    expectNoLeak(['br0', 'i0', 'vxlan_sys_4789']);
    // No socket left behind by the failures (per-CPU dispatch: ports have no sockets of their own).
    expect([...rig.daemon.kernel.openSockets].length).toBe(sockets);
    expect(rig.vswitchdAlive).toBe(true);
  }, 120_000);

  it('the Nth allocation failing in one transaction of many ports: only the ports hit fail; they come back once the fault clears', async () => {
    // Each internal port allocates a vport and a net_device: the 5th allocation is the 3rd port's vport.
    faults().failNth('failslab', 5, 1);
    const names = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5'];
    const r = await rig.vsctl(...names.flatMap((n) => ['--', 'add-port', 'br0', n, '--', 'set', 'Interface', n, 'type=internal']).slice(1));
    expect(r.code).toBe(0);
    // What ovs-vsctl found in Interface.error when vswitchd reported the transaction applied.
    const reported = r.stderr.split('\n').filter((l) => l.includes('Error detected'));
    expect(reported.length).toBeGreaterThanOrEqual(1);
    expect(reported.length).toBeLessThanOrEqual(2);
    for (const line of reported)
      expect(line).toMatch(/^ovs-vsctl: Error detected while setting up 'q\d': could not add network device q\d to ofproto \(Cannot allocate memory\)\./);
    expect(
      faults()
        .show()
        .find((p) => p.point === 'failslab')!.injected,
    ).toBe(2);
    // The fault has spent itself (times 2): the next reconfiguration brings the failed ports in.
    expect((await rig.vsctl('set', 'Bridge', 'br0', 'external_ids:x=1')).code).toBe(0);
    await rig.until('converged', () => [...rig.interfaces().values()].every((s) => s.error === null));
    expectNoLeak(['br0', ...names]);
  }, 120_000);

  it('a vport module that cannot be loaded (fail_request_module): a tunnel is refused as the kernel refuses it; loadable again, it comes', async () => {
    faults().set('fail_request_module', { probability: 100, interval: 1, times: -1 });
    const r = await rig.vsctl('add-port', 'br0', 'gnv0', '--', 'set', 'Interface', 'gnv0', 'type=geneve', 'options:remote_ip=192.0.2.1');
    expect(r.code).toBe(0);
    // The geneve link kind is not loadable (RTM_NEWLINK: EOPNOTSUPP), so dpif-netlink falls back to the
    // compat vport type, whose module cannot be loaded either: EAFNOSUPPORT.
    expect(r.stderr.split('\n')[0]).toBe(vsctlError('gnv0', 'Address family not supported by protocol'));
    expectNoLeak(['br0']);
    faults().clear();
    expect((await rig.vsctl('set', 'Bridge', 'br0', 'external_ids:x=1')).code).toBe(0);
    await rig.until('converged', () => rig.interfaces().get('gnv0')!.error === null);
    expectNoLeak(['br0', 'genev_sys_6081']);
  }, 120_000);

  it('sockets that cannot be made (fail_netlink_create): ports need none of their own (per-CPU dispatch), so they go in', async () => {
    faults().set('fail_netlink_create', { probability: 100, interval: 1, times: -1 });
    const r = await rig.vsctl('add-port', 'br0', 'i0', '--', 'set', 'Interface', 'i0', 'type=internal');
    expect(r).toEqual({ code: 0, stderr: '' });
    expect(rig.interfaces().get('i0')!.error).toBeNull();
    expectNoLeak(['br0', 'i0']);
    faults().clear();
  }, 120_000);
});
