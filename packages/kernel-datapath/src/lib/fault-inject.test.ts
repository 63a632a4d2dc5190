/**
 * Fault injection: should_fail() as lib/fault-inject.c decides it (Linux
 * 6.1), and each point of the model failing the operation the kernel would
 * fail, with the kernel's errno, unwinding to the state before the request.
 */
import { Errno, NetlinkErrnoError, NetlinkProtocol, OVS_DP_CMD, OVS_VPORT_CMD, OVS_VPORT_TYPE, ovsDatapathFamily, ovsVportFamily } from '@ovs/genl-codec';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { FAULT_ATTR_DEFAULT, FaultInjection } from './fault-inject.js';
import { type IpLinkKind, ipLinkAdd } from '../tools/iplink.js';
import { Kernel } from '../kernel.js';
import { TestClient } from '../testing/index.js';

const errnoOf = TestClient.errno;
const { NETDEV, INTERNAL, GRE, VXLAN, GENEVE } = OVS_VPORT_TYPE;

/** Everything a failed request must leave as it was. */
function snapshot(k: Kernel) {
  const ovs = k.ovs!;
  return {
    devices: [...k.initNet.devices].map((d) => `${d.ifindex}:${d.name}:${d.kind}:${d.master?.name ?? '-'}:${d.promiscuity}:${d.rxHandler ? 'rx' : '-'}`),
    datapaths: ovs.datapaths().map((dp) => [dp.name, [...dp.ports.keys()].sort((a, b) => a - b)]),
    sockets: [...k.openSockets].map((s) => s.portId),
    modules: [NETDEV, INTERNAL, GRE, VXLAN, GENEVE].map((t) => {
      const m = ovs.modules.module(t)!;
      // A module loaded while the request failed stays loaded, as in the kernel: refcounts only.
      return `${t}:${m.refcount}`;
    }),
  };
}

/**
 * The calls of Linux's should_fail() with size 1, from its source: `space`
 * lets max(space - 1, 0) calls pass, then every interval-th call counted may
 * fail, `times` times (-1: always), when the random number is below
 * `probability`.
 */
function expectedFailures(n: number, a: { interval: number; times: number; space: number }): number[] {
  const out: number[] = [];
  const skip = Math.max(a.space - 1, 0);
  for (let call = 1; call <= n; call++) {
    if (a.times !== -1 && out.length >= a.times) break;
    if (call <= skip) continue;
    if ((call - skip) % a.interval === 0) out.push(call);
  }
  return out;
}

describe('should_fail()', () => {
  it('starts off, as DECLARE_FAULT_ATTR leaves a point (probability 0, interval 1, times 1)', () => {
    const f = new FaultInjection();
    expect(f.show().map((s) => s.point)).toEqual(['failslab', 'fail_request_module', 'fail_netlink_create']);
    expect(f.show()[0]).toMatchObject(FAULT_ATTR_DEFAULT);
    for (let i = 0; i < 100; i++) expect(f.shouldFail('failslab', 't')).toBe(false);
  });
  it('fails exactly the calls interval, times and space select, at probability 100', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: -1, max: 6 }), fc.integer({ min: 0, max: 10 }), (interval, times, space) => {
        const f = new FaultInjection();
        f.set('failslab', { probability: 100, interval, times, space });
        const got: number[] = [];
        for (let call = 1; call <= 60; call++) if (f.shouldFail('failslab', 't')) got.push(call);
        expect(got).toEqual(expectedFailures(60, { interval, times, space }));
        expect(f.show()[0]!.injected).toBe(got.length);
      }),
      { numRuns: 200 },
    );
  });
  it('failNth(n, k) fails calls n .. n+k and no other', () => {
    const f = new FaultInjection();
    f.failNth('fail_request_module', 3, 2);
    const got: number[] = [];
    for (let call = 1; call <= 20; call++) if (f.shouldFail('fail_request_module', 't')) got.push(call);
    expect(got).toEqual([3, 4, 5]);
  });
  it('probability p fails about p% of the calls (seeded: the same every run)', () => {
    const f = new FaultInjection(undefined, 42);
    f.set('failslab', { probability: 30, times: -1 });
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (f.shouldFail('failslab', 't')) n++;
    expect(n).toBeGreaterThan(2_500);
    expect(n).toBeLessThan(3_500);
  });
  it('refuses values debugfs refuses, and unknown points, changing nothing', () => {
    const f = new FaultInjection();
    const before = f.show();
    for (const bad of [{ probability: 101 }, { interval: 0 }, { times: -2 }, { space: -1 }, { verbose: 3 }, { probability: 1.5 }]) {
      expect(() => f.set('failslab', bad)).toThrow(NetlinkErrnoError);
    }
    expect(() => f.set('fail_everything', { probability: 100 })).toThrow(/no fault point/);
    expect(() => f.failNth('failslab', 0)).toThrow(NetlinkErrnoError);
    expect(f.show()).toEqual(before);
  });
  it('clear() turns a point, or all of them, back off', () => {
    const f = new FaultInjection();
    f.failNth('failslab', 1);
    f.failNth('fail_netlink_create', 1);
    f.clear('failslab');
    expect(f.shouldFail('failslab', 't')).toBe(false);
    expect(f.shouldFail('fail_netlink_create', 't')).toBe(true);
    f.failNth('fail_netlink_create', 1);
    f.clear();
    expect(f.shouldFail('fail_netlink_create', 't')).toBe(false);
    expect(f.log).toEqual([]);
  });
});

describe('fault points in the kernel', () => {
  let kernel: Kernel;
  let c: TestClient;
  let dp: number;

  beforeEach(() => {
    kernel = new Kernel();
    c = new TestClient(kernel);
    kernel.initNet.addDevice({ name: 'veth0', kind: 'veth' });
    dp = c.newDatapath('dp0');
  });

  /** Fail the nth failslab call of `op`: the errno, the state unchanged, the site logged; then the same op succeeds. */
  function failsAt(nth: number, site: string, op: () => number | undefined, errno = Errno.ENOMEM): void {
    const before = snapshot(kernel);
    kernel.faults.failNth('failslab', nth);
    expect(op()).toBe(errno);
    expect(snapshot(kernel)).toEqual(before);
    expect(kernel.faults.log.at(-1)).toEqual({ point: 'failslab', site });
    kernel.faults.clear();
  }

  it('failslab: OVS_DP_CMD_NEW fails at the datapath, its local vport, the local device (ENOMEM), then works', () => {
    const dpNew = () => errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { name: 'dp1', upcallPid: 0 }));
    failsAt(1, 'ovs_dp_cmd_new', dpNew);
    failsAt(2, 'ovs_vport_alloc', dpNew);
    failsAt(3, 'alloc_netdev_mqs', dpNew);
    expect(dpNew()).toBeUndefined(); // the reply, no error
    expect(kernel.ovs!.datapaths().map((d) => d.name)).toEqual(['dp0', 'dp1']);
  });

  it('failslab: OVS_VPORT_CMD_NEW of each type fails where its create allocates, and leaves nothing', () => {
    const add =
      (name: string, type: number, attrs: Record<string, unknown> = {}) =>
      () =>
        errnoOf(c.newVport(dp, name, type, attrs));
    failsAt(1, 'ovs_vport_alloc', add('veth0', NETDEV));
    failsAt(1, 'ovs_vport_alloc', add('int0', INTERNAL));
    failsAt(2, 'alloc_netdev_mqs', add('int0', INTERNAL));
    // The tunnel modules load first (request_module, then the restart); the allocations follow.
    for (const [name, type, options] of [
      ['vx0', VXLAN, { dstPort: 4789 }],
      ['gnv0', GENEVE, { dstPort: 6081 }],
      ['gre0', GRE, undefined],
    ] as const) {
      const attrs = options ? { options } : {};
      failsAt(1, 'ovs_vport_alloc', add(name, type, attrs));
      failsAt(2, 'alloc_netdev_mqs', add(name, type, attrs));
      expect(add(name, type, attrs)()).toBeUndefined();
    }
    expect(add('veth0', NETDEV)()).toBeUndefined();
    expect(add('int0', INTERNAL)()).toBeUndefined();
    expect([...kernel.ovs!.datapaths()[0]!.ports.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('failslab: rtnetlink link creation fails in alloc_netdev_mqs (ENOMEM); a veth fails at either end with nothing made', async () => {
    const rt = kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE });
    for (const nth of [1, 2]) {
      const before = snapshot(kernel);
      kernel.faults.failNth('failslab', nth);
      await expect(ipLinkAdd(rt, 'va', 'veth', { peer: 'vb' })).rejects.toMatchObject({ errno: Errno.ENOMEM });
      expect(snapshot(kernel)).toEqual(before);
      kernel.faults.clear();
    }
    kernel.faults.failNth('failslab', 1);
    await expect(ipLinkAdd(rt, 'd9', 'dummy')).rejects.toMatchObject({ errno: Errno.ENOMEM });
    kernel.faults.clear();
    await ipLinkAdd(rt, 'va', 'veth', { peer: 'vb' });
    expect(kernel.initNet.byIfname('vb')?.peer?.name).toBe('va');
  });

  it('fail_request_module: a tunnel vport whose module cannot load is EAFNOSUPPORT, the module stays unloaded; later it loads', () => {
    const before = snapshot(kernel);
    kernel.faults.failNth('fail_request_module', 1);
    expect(errnoOf(c.newVport(dp, 'vx0', VXLAN, { options: { dstPort: 4789 } }))).toBe(Errno.EAFNOSUPPORT);
    expect(snapshot(kernel)).toEqual(before);
    expect(kernel.ovs!.modules.module(VXLAN)!.loaded).toBe(false);
    expect(kernel.faults.log).toEqual([{ point: 'fail_request_module', site: 'vport-type-4' }]);
    // times was 1: the next request loads it.
    expect(errnoOf(c.newVport(dp, 'vx0', VXLAN, { options: { dstPort: 4789 } }))).toBeUndefined();
    expect(kernel.ovs!.modules.module(VXLAN)!.loaded).toBe(true);
  });

  it('fail_request_module: rtnetlink answers "Unknown device type" for a kind whose module cannot load, not for loaded ones', async () => {
    const rt = kernel.socket({ protocol: NetlinkProtocol.NETLINK_ROUTE });
    kernel.faults.set('fail_request_module', { probability: 100, times: -1 });
    await expect(ipLinkAdd(rt, 'gnv9', 'geneve' as IpLinkKind)).rejects.toMatchObject({ errno: Errno.EOPNOTSUPP, extackMessage: 'Unknown device type' });
    await ipLinkAdd(rt, 'd9', 'dummy'); // dummy.ko is loaded
    expect(kernel.initNet.byIfname('gnv9')).toBeUndefined();
    kernel.faults.clear();
    // A loaded vport-vxlan has pulled in vxlan.ko: no request_module for the kind then.
    expect(errnoOf(c.newVport(dp, 'vx0', VXLAN, { options: { dstPort: 4789 } }))).toBeUndefined();
    kernel.faults.set('fail_request_module', { probability: 100, times: -1 });
    await expect(ipLinkAdd(rt, 'vxl', 'vxlan' as IpLinkKind)).rejects.not.toMatchObject({ extackMessage: 'Unknown device type' });
  });

  it('fail_netlink_create: socket() fails with ENOMEM, no socket is left, and the next one works', () => {
    const before = snapshot(kernel);
    kernel.faults.failNth('fail_netlink_create', 1);
    expect(() => kernel.socket({ protocol: NetlinkProtocol.NETLINK_GENERIC })).toThrow(expect.objectContaining({ errno: Errno.ENOMEM }));
    expect(snapshot(kernel)).toEqual(before);
    const s = kernel.socket({ protocol: NetlinkProtocol.NETLINK_GENERIC });
    expect(s.portId).toBeGreaterThan(0);
  });

  it('interval and times: every 2nd vport allocation fails, twice, then they all succeed', () => {
    kernel.faults.set('failslab', { probability: 100, interval: 2, times: 2 });
    const results = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'].map((n) => errnoOf(c.newVport(dp, n, INTERNAL)));
    // Each success takes 2 allocations (vport, net_device); a failure at the device stops there.
    // Calls: i1 vport(1) dev(2: fails) | i2 vport(3) dev(4: fails) | then times is 0.
    expect(results).toEqual([Errno.ENOMEM, Errno.ENOMEM, undefined, undefined, undefined, undefined]);
    expect(kernel.faults.log.map((e) => e.site)).toEqual(['alloc_netdev_mqs', 'alloc_netdev_mqs']);
    expect(kernel.ovs!.locate(kernel.initNet, 'i1')).toBeUndefined();
    expect(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { name: 'i3' }).at(0)?.kind).toBe('genl');
  });
});
