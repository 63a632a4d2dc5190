/**
 * The ovs_datapath / ovs_vport control plane, one behaviour per test. The
 * expected errnos are the real kernel's, as raw-genl.json and the dpctl
 * captures show them (seq numbers cited), or as datapath.c decides them.
 */
import {
  CTRL_CMD,
  Errno,
  type Message,
  NLM_F,
  OVS_DP_CMD,
  OVS_DP_F,
  OVS_VPORT_CMD,
  OVS_VPORT_TYPE,
  ctrlFamily,
  ovsDatapathFamily,
  ovsVportFamily,
} from '@ovs/genl-codec';
import { beforeEach, describe, expect, it } from 'vitest';
import { Kernel } from '../../kernel.js';
import { TestClient } from '../../testing/index.js';

const errnoOf = TestClient.errno;
const { NETDEV, INTERNAL, VXLAN, GENEVE, GRE } = OVS_VPORT_TYPE;

function genl(msgs: Message[], i = 0) {
  const m = msgs[i];
  if (m?.kind !== 'genl') throw new Error(`expected a genl message, got ${m?.kind}`);
  return m as Message & { kind: 'genl'; attrs: Record<string, unknown> };
}

let kernel: Kernel;
let c: TestClient;
let dp: number;

beforeEach(() => {
  kernel = new Kernel();
  c = new TestClient(kernel);
  const ns = kernel.initNet;
  for (const name of ['veth0', 'veth2', 'd0', 'd1', 'd2']) ns.addDevice({ name, kind: name.startsWith('veth') ? 'veth' : 'dummy' });
  dp = c.newDatapath('dp0', { userFeatures: OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS });
});

describe('nlctrl', () => {
  it('CTRL_CMD_GETFAMILY of an unknown family is ENOENT (raw-genl seq 1008)', () => {
    expect(errnoOf(c.request(ctrlFamily, CTRL_CMD.GETFAMILY, { familyName: 'no_such_family' }))).toBe(Errno.ENOENT);
  });
  it('by name and by id give the same description', () => {
    const byName = genl(c.request(ctrlFamily, CTRL_CMD.GETFAMILY, { familyName: 'ovs_vport' }));
    const byId = genl(c.request(ctrlFamily, CTRL_CMD.GETFAMILY, { familyId: byName.attrs.familyId }));
    expect(byId.attrs).toEqual(byName.attrs);
    expect(byName.attrs).toMatchObject({ familyName: 'ovs_vport', version: 1, hdrsize: 4, maxattr: 9 });
  });
  it('a dump lists nlctrl, ethtool and the six OVS families, by id', () => {
    const msgs = c.request(ctrlFamily, CTRL_CMD.GETFAMILY, {}, { flags: NLM_F.REQUEST | NLM_F.DUMP });
    const names = msgs.filter((m) => m.kind === 'genl').map((m) => (m as ReturnType<typeof genl>).attrs.familyName);
    expect(names).toEqual(['nlctrl', 'ethtool', 'ovs_datapath', 'ovs_vport', 'ovs_flow', 'ovs_packet', 'ovs_meter', 'ovs_ct_limit']);
    expect(msgs.at(-1)?.kind).toBe('done');
  });
});

describe('ovs_datapath', () => {
  it('NEW creates the local port: port 0, internal, named after the datapath, an internal net_device', () => {
    const dev = kernel.initNet.byIfname('dp0')!;
    expect(dev.kind).toBe('openvswitch');
    expect(dev.ifindex).toBe(dp);
    const local = genl(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { portNo: 0 }, { dpIfindex: dp }));
    expect(local.attrs).toMatchObject({ portNo: 0, type: INTERNAL, name: 'dp0', ifindex: dp, upcallPid: [0] });
  });
  it('NEW of an existing name is EEXIST (raw-genl seq 1011)', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { name: 'dp0', upcallPid: 0 }))).toBe(Errno.EEXIST);
  });
  it('NEW named like an existing device is EEXIST', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { name: 'd0', upcallPid: 0 }))).toBe(Errno.EEXIST);
  });
  it('NEW without NAME or without UPCALL_PID is EINVAL (raw-genl seq 1012, 1013)', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { upcallPid: 0 }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { name: 'dpx' }))).toBe(Errno.EINVAL);
  });
  it('GET of an unknown name or dp_ifindex is ENODEV (raw-genl seq 1015, 1016)', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.GET, { name: 'nope' }))).toBe(Errno.ENODEV);
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.GET, {}, { dpIfindex: 9999 }))).toBe(Errno.ENODEV);
  });
  it('SET with an unknown user feature bit is EOPNOTSUPP, and TC_RECIRC_SHARING too on this kernel', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', userFeatures: 1 << 30 }))).toBe(Errno.EOPNOTSUPP);
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', userFeatures: 13 }))).toBe(Errno.EOPNOTSUPP);
    const ok = genl(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', userFeatures: 9 }));
    expect(ok.attrs.userFeatures).toBe(9);
  });
  it('a masks cache size that is not a power of two is EINVAL; above 4096 the policy says ERANGE', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', masksCacheSize: 100 }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', masksCacheSize: 8192 }))).toBe(Errno.ERANGE);
    expect(genl(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', masksCacheSize: 512 })).attrs.masksCacheSize).toBe(512);
  });
  it('SET applies features and cache size before rejecting bad per-CPU pids, as ovs_dp_change does', () => {
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', userFeatures: 9, masksCacheSize: 512, perCpuPids: [] }))).toBe(Errno.EINVAL);
    const now = genl(c.request(ovsDatapathFamily, OVS_DP_CMD.GET, { name: 'dp0' }));
    expect(now.attrs).toMatchObject({ userFeatures: 9, masksCacheSize: 512 });
  });
  it('SET without USER_FEATURES resets them to 0', () => {
    expect(genl(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0' })).attrs.userFeatures).toBe(0);
  });
  it('per-CPU upcall pids are kept and reported with DISPATCH_UPCALL_PER_CPU', () => {
    const r = genl(c.request(ovsDatapathFamily, OVS_DP_CMD.SET, { name: 'dp0', userFeatures: 9, perCpuPids: [7, 8] }));
    expect(r.attrs.perCpuPids).toEqual([7, 8]);
  });
  it('DEL removes the datapath, its ports and their devices; a second DEL is ENODEV', () => {
    c.newVport(dp, 'int1', INTERNAL);
    c.newVport(dp, 'veth0', NETDEV);
    expect(genl(c.request(ovsDatapathFamily, OVS_DP_CMD.DEL, { name: 'dp0' })).cmd).toBe(OVS_DP_CMD.DEL);
    expect(kernel.initNet.byIfname('dp0')).toBeUndefined();
    expect(kernel.initNet.byIfname('int1')).toBeUndefined();
    expect(kernel.initNet.byIfname('veth0')?.master).toBeUndefined();
    expect(errnoOf(c.request(ovsDatapathFamily, OVS_DP_CMD.DEL, { name: 'dp0' }))).toBe(Errno.ENODEV);
  });
  it('a dump lists every datapath', () => {
    c.newDatapath('dp1');
    const msgs = c.request(ovsDatapathFamily, OVS_DP_CMD.GET, {}, { flags: NLM_F.REQUEST | NLM_F.DUMP });
    expect(msgs.filter((m) => m.kind === 'genl').map((m) => genl([m]).attrs.name)).toEqual(['dp0', 'dp1']);
  });
  it('NEW, SET and DEL need CAP_NET_ADMIN; GET does not (raw-genl seq 5006-5008)', () => {
    const u = new TestClient(kernel, { capNetAdmin: false });
    expect(errnoOf(u.request(ovsDatapathFamily, OVS_DP_CMD.NEW, { name: 'x', upcallPid: 0 }))).toBe(Errno.EPERM);
    expect(errnoOf(u.request(ovsDatapathFamily, OVS_DP_CMD.DEL, { name: 'dp0' }))).toBe(Errno.EPERM);
    expect(genl(u.request(ovsDatapathFamily, OVS_DP_CMD.GET, { name: 'dp0' })).attrs.name).toBe('dp0');
  });
});

describe('ovs_vport NEW: the checks of ovs_vport_cmd_new, in order', () => {
  it('missing NAME, TYPE or UPCALL_PID is EINVAL (raw-genl seq 1020-1022)', () => {
    expect(errnoOf(c.request(ovsVportFamily, 1, { type: NETDEV, upcallPid: [1] }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsVportFamily, 1, { name: 'd0', upcallPid: [1] }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsVportFamily, 1, { name: 'd0', type: NETDEV }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
  });
  it('IFINDEX on a non-internal port is EOPNOTSUPP (raw-genl seq 1046); an internal port gets it (1047)', () => {
    expect(errnoOf(c.newVport(dp, 'd0', NETDEV, { ifindex: 5000 }))).toBe(Errno.EOPNOTSUPP);
    expect(genl(c.newVport(dp, 'int8', INTERNAL, { ifindex: 4242 })).attrs.ifindex).toBe(4242);
  });
  it('port_no >= DP_MAX_PORTS is EFBIG, 65534 is accepted (raw-genl seq 1031, 1032, 1034)', () => {
    expect(errnoOf(c.newVport(dp, 'd0', NETDEV, { portNo: 65535 }))).toBe(Errno.EFBIG);
    expect(errnoOf(c.newVport(dp, 'd0', NETDEV, { portNo: 65536 }))).toBe(Errno.EFBIG);
    expect(genl(c.newVport(dp, 'd0', NETDEV, { portNo: 65534 })).attrs.portNo).toBe(65534);
  });
  it('an unknown datapath (or dp_ifindex 0) is ENODEV (raw-genl seq 1023, 1024)', () => {
    expect(errnoOf(c.newVport(9999, 'd0', NETDEV))).toBe(Errno.ENODEV);
    expect(errnoOf(c.newVport(0, 'd0', NETDEV))).toBe(Errno.ENODEV);
  });
  it('a requested port number in use is EBUSY (raw-genl seq 1035)', () => {
    c.newVport(dp, 'd0', NETDEV, { portNo: 7 });
    expect(errnoOf(c.newVport(dp, 'd1', NETDEV, { portNo: 7 }))).toBe(Errno.EBUSY);
  });
  it('port 0 means "pick one": the lowest free number from 1, reusing freed ones (raw-genl seq 1033)', () => {
    expect(genl(c.newVport(dp, 'd0', NETDEV, { portNo: 0 })).attrs.portNo).toBe(1);
    expect(genl(c.newVport(dp, 'd1', NETDEV)).attrs.portNo).toBe(2);
    c.newVport(dp, 'd2', NETDEV, { portNo: 3 });
    c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name: 'd0' }, { dpIfindex: dp });
    expect(genl(c.newVport(dp, 'veth0', NETDEV)).attrs.portNo).toBe(1);
    expect(genl(c.newVport(dp, 'veth2', NETDEV)).attrs.portNo).toBe(4);
  });
  it('unknown vport types, and type 0, are EAFNOSUPPORT after a failed module load (raw-genl seq 1025, 1026)', () => {
    expect(errnoOf(c.newVport(dp, 'x', 99))).toBe(Errno.EAFNOSUPPORT);
    expect(errnoOf(c.newVport(dp, 'x', 0))).toBe(Errno.EAFNOSUPPORT);
  });
  it("netdev: absent device ENODEV, loopback EINVAL, another datapath's internal device EINVAL (1027, 1029, 1030)", () => {
    expect(errnoOf(c.newVport(dp, 'nosuchdev', NETDEV))).toBe(Errno.ENODEV);
    expect(errnoOf(c.newVport(dp, 'lo', NETDEV))).toBe(Errno.EINVAL);
    c.newDatapath('dp1');
    expect(errnoOf(c.newVport(dp, 'dp1', NETDEV))).toBe(Errno.EINVAL);
  });
  it('the same netdev twice: EEXIST in the same datapath, EBUSY in another (1036, 1037)', () => {
    c.newVport(dp, 'veth0', NETDEV);
    expect(errnoOf(c.newVport(dp, 'veth0', NETDEV))).toBe(Errno.EEXIST);
    const dp1 = c.newDatapath('dp1');
    expect(errnoOf(c.newVport(dp1, 'veth0', NETDEV))).toBe(Errno.EBUSY);
  });
  it('an internal port named like an existing device is EEXIST (1038)', () => {
    expect(errnoOf(c.newVport(dp, 'd0', INTERNAL))).toBe(Errno.EEXIST);
  });
  it('upcall pids: empty or a partial u32 is EINVAL, more than the CPUs is EINVAL (1042-1045)', () => {
    expect(errnoOf(c.request(ovsVportFamily, 1, { type: NETDEV, name: 'd0', upcallPid: [] }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.newVport(dp, 'd0', NETDEV, { upcallPid: [1, 2, 3] }))).toBe(Errno.EINVAL);
    expect(genl(c.newVport(dp, 'd0', NETDEV, { upcallPid: [1, 2] })).attrs.upcallPid).toEqual([1, 2]);
  });
  it('a name of 16+ bytes fails policy validation: EINVAL with extack offset and policy (1028)', () => {
    const [err] = c.newVport(dp, 'abcdefghijklmnopqrstu', NETDEV);
    expect(err?.kind === 'error' && err.ext).toMatchObject({ msg: 'Attribute failed policy validation', offs: 32, policy: { maxLength: 15, type: 12 } });
  });
  it('NEW, SET and DEL need CAP_NET_ADMIN; GET and dumps do not (5001-5005)', () => {
    const u = new TestClient(kernel, { capNetAdmin: false });
    expect(errnoOf(u.newVport(dp, 'd0', NETDEV))).toBe(Errno.EPERM);
    expect(errnoOf(u.request(ovsVportFamily, OVS_VPORT_CMD.SET, { portNo: 0 }, { dpIfindex: dp }))).toBe(Errno.EPERM);
    expect(errnoOf(u.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { portNo: 0 }, { dpIfindex: dp }))).toBe(Errno.EPERM);
    expect(genl(u.request(ovsVportFamily, OVS_VPORT_CMD.GET, { portNo: 0 }, { dpIfindex: dp })).attrs.name).toBe('dp0');
  });
});

describe('vport types as modules', () => {
  it('a tunnel type is loaded on first use (request_module then EAGAIN restart) and refcounted', () => {
    const m = kernel.ovs!.modules.module(VXLAN)!;
    expect(m.loaded).toBe(false);
    expect(genl(c.newVport(dp, 'vxc0', VXLAN, { options: { dstPort: 4789 } })).attrs.options).toEqual({ dstPort: 4789 });
    expect(m.loaded).toBe(true);
    expect(m.refcount).toBe(1);
    c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name: 'vxc0' }, { dpIfindex: dp });
    expect(m.refcount).toBe(0);
  });
  it('a type whose module cannot be loaded is EAFNOSUPPORT', () => {
    kernel.ovs!.modules.module(GENEVE)!.failLoad = true;
    expect(errnoOf(c.newVport(dp, 'gnc0', GENEVE, { options: { dstPort: 6081 } }))).toBe(Errno.EAFNOSUPPORT);
    kernel.ovs!.modules.module(GENEVE)!.available = false;
    kernel.ovs!.modules.module(GENEVE)!.failLoad = false;
    expect(errnoOf(c.newVport(dp, 'gnc0', GENEVE, { options: { dstPort: 6081 } }))).toBe(Errno.EAFNOSUPPORT);
  });
  it('a module being unloaded (try_module_get fails) is EAFNOSUPPORT', () => {
    const m = kernel.ovs!.modules.module(NETDEV)!;
    m.failGet = true;
    expect(errnoOf(c.newVport(dp, 'd0', NETDEV))).toBe(Errno.EAFNOSUPPORT);
  });
  it('compat tunnels: DST_PORT required; vxlan twice on a port EEXIST, geneve EBUSY, gre twice EEXIST (1049-1058)', () => {
    expect(errnoOf(c.newVport(dp, 'vxc', VXLAN))).toBe(Errno.EINVAL);
    expect(errnoOf(c.newVport(dp, 'vxc', VXLAN, { options: {} }))).toBe(Errno.EINVAL);
    c.newVport(dp, 'vxc0', VXLAN, { options: { dstPort: 4789 } });
    expect(errnoOf(c.newVport(dp, 'vxc1', VXLAN, { options: { dstPort: 4789 } }))).toBe(Errno.EEXIST);
    expect(genl(c.newVport(dp, 'vxc4', VXLAN, { options: { dstPort: 4790, extension: { gbp: true } } })).attrs.options).toEqual({
      dstPort: 4790,
      extension: { gbp: true },
    });
    c.newVport(dp, 'gnc0', GENEVE, { options: { dstPort: 6081 } });
    expect(errnoOf(c.newVport(dp, 'gnc1', GENEVE, { options: { dstPort: 6081 } }))).toBe(Errno.EBUSY);
    expect(errnoOf(c.newVport(dp, 'gnc2', GENEVE))).toBe(Errno.EINVAL);
    expect(genl(c.newVport(dp, 'grc0', GRE)).attrs.options).toBeUndefined();
    expect(errnoOf(c.newVport(dp, 'grc1', GRE))).toBe(Errno.EEXIST);
    expect(kernel.initNet.byIfname('vxc0')?.kind).toBe('vxlan');
  });
  it('netdev vports accept OPTIONS and ignore them (1048)', () => {
    expect(genl(c.newVport(dp, 'd0', NETDEV, { options: { dstPort: 1 } })).attrs.options).toBeUndefined();
  });
  it('the ovs-2.5 profile has lisp and stt once their modules are available, and no IFINDEX', () => {
    const old = new Kernel({ profile: 'ovs-2.5' });
    const oc = new TestClient(old);
    const odp = oc.newDatapath('dp0');
    expect(errnoOf(oc.newVport(odp, 'lisp0', OVS_VPORT_TYPE.LISP, { options: { dstPort: 4341 } }))).toBe(Errno.EAFNOSUPPORT);
    old.ovs!.modules.module(OVS_VPORT_TYPE.LISP)!.available = true;
    const r = genl(oc.newVport(odp, 'lisp0', OVS_VPORT_TYPE.LISP, { options: { dstPort: 4341 } }));
    expect(r.attrs.ifindex).toBeUndefined();
    expect(r.attrs.type).toBe(OVS_VPORT_TYPE.LISP);
    expect(oc.families.id('ovs_meter')).toBeUndefined();
  });
  it('ovs-2.5: a compat GRE vport fails with EAFNOSUPPORT when ip_gre holds the GRE protocol (seed 001)', () => {
    const old = new Kernel({ profile: 'ovs-2.5' });
    old.ovs!.greProtocolTaken = true;
    const oc = new TestClient(old);
    expect(errnoOf(oc.newVport(oc.newDatapath('dp0'), 'gre0', GRE))).toBe(Errno.EAFNOSUPPORT);
  });
});

describe('ovs_vport GET / SET / DEL / dump', () => {
  beforeEach(() => {
    c.newVport(dp, 'veth0', NETDEV, { portNo: 65534 });
    c.newVport(dp, 'int9', INTERNAL);
  });
  it('GET by name (dp_ifindex 0 allowed), by number; a wrong dp_ifindex or unknown port is ENODEV (1060-1066)', () => {
    expect(genl(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { name: 'veth0' })).attrs.portNo).toBe(65534);
    expect(genl(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { portNo: 65534 }, { dpIfindex: dp })).attrs.name).toBe('veth0');
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { name: 'veth0' }, { dpIfindex: 9999 }))).toBe(Errno.ENODEV);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { portNo: 4000 }, { dpIfindex: dp }))).toBe(Errno.ENODEV);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { portNo: 70000 }, { dpIfindex: dp }))).toBe(Errno.EFBIG);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, {}, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { name: 'nope' }))).toBe(Errno.ENODEV);
  });
  it('SET: new upcall pids; a different TYPE is EINVAL, the same TYPE fine; OPTIONS EOPNOTSUPP (1067-1071)', () => {
    expect(genl(c.request(ovsVportFamily, OVS_VPORT_CMD.SET, { portNo: 65534, upcallPid: [5, 6] }, { dpIfindex: dp })).attrs.upcallPid).toEqual([5, 6]);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.SET, { portNo: 65534, type: INTERNAL }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(genl(c.request(ovsVportFamily, OVS_VPORT_CMD.SET, { portNo: 65534, type: NETDEV }, { dpIfindex: dp })).cmd).toBe(OVS_VPORT_CMD.SET);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.SET, { name: 'veth0', options: { dstPort: 1 } }))).toBe(Errno.EOPNOTSUPP);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.SET, { name: 'nope' }))).toBe(Errno.ENODEV);
  });
  it('DEL: the local port is EINVAL by number or name; unknown ENODEV; others go (1072-1077)', () => {
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { portNo: 0 }, { dpIfindex: dp }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name: 'dp0' }))).toBe(Errno.EINVAL);
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { portNo: 1234 }, { dpIfindex: dp }))).toBe(Errno.ENODEV);
    expect(genl(c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name: 'int9' })).cmd).toBe(OVS_VPORT_CMD.DEL);
    expect(kernel.initNet.byIfname('int9')).toBeUndefined();
  });
  it('a dump walks the hash buckets (port & 1023), resumes across reads, and ends in NLMSG_DONE', () => {
    for (let i = 0; i < 30; i++) kernel.initNet.addDevice({ name: `b${i}`, kind: 'dummy' });
    for (let i = 0; i < 30; i++) c.newVport(dp, `b${i}`, NETDEV);
    const msgs = c.request(ovsVportFamily, OVS_VPORT_CMD.GET, {}, { dpIfindex: dp, flags: NLM_F.REQUEST | NLM_F.DUMP });
    const ports = msgs.filter((m) => m.kind === 'genl').map((m) => genl([m]).attrs.portNo as number);
    // 65534 sits in bucket 65534 & 1023 = 1022, after every port below 1022.
    expect(ports).toEqual([0, ...Array.from({ length: 31 }, (_, i) => i + 1), 65534]);
    expect(msgs.at(-1)).toMatchObject({ kind: 'done', error: 0 });
  });
  it('a dump of an unknown datapath ends in NLMSG_DONE carrying -ENODEV', () => {
    const msgs = c.request(ovsVportFamily, OVS_VPORT_CMD.GET, {}, { dpIfindex: 9999, flags: NLM_F.REQUEST | NLM_F.DUMP });
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ kind: 'done', error: -Errno.ENODEV });
  });
});

describe('notifications and acks', () => {
  it('NEW, SET and DEL go to ovs_vport group members; ECHO sends a copy to the requester, ACK an ack', () => {
    const listener = new TestClient(kernel);
    void listener.sock.joinGroup(kernel.ovs!.families.vport.mcgrps[0]!.id);
    const echo = c.newVport(dp, 'd0', NETDEV);
    expect(echo.map((m) => m.kind)).toEqual(['genl']);
    expect(listener.drain().map((m) => (m.kind === 'genl' ? m.cmd : -1))).toEqual([OVS_VPORT_CMD.NEW]);
    const acked = c.request(
      ovsVportFamily,
      OVS_VPORT_CMD.NEW,
      { type: NETDEV, name: 'd1', upcallPid: [1] },
      { dpIfindex: dp, flags: NLM_F.REQUEST | NLM_F.ACK },
    );
    expect(acked).toHaveLength(1);
    expect(acked[0]).toMatchObject({ kind: 'error', error: 0 });
    const silent = c.request(ovsVportFamily, OVS_VPORT_CMD.NEW, { type: NETDEV, name: 'd2', upcallPid: [1] }, { dpIfindex: dp, flags: NLM_F.REQUEST });
    expect(silent).toEqual([]);
    expect(listener.drain()).toHaveLength(2);
  });
  it('a device unregistered under a netdev vport removes the vport and notifies the group (dp_device_event)', () => {
    const listener = new TestClient(kernel);
    void listener.sock.joinGroup(kernel.ovs!.families.vport.mcgrps[0]!.id);
    c.newVport(dp, 'd0', NETDEV);
    listener.drain();
    kernel.initNet.removeDevice(kernel.initNet.byIfname('d0')!);
    const [del] = listener.drain();
    expect(del?.kind === 'genl' && del.cmd).toBe(OVS_VPORT_CMD.DEL);
    expect(del?.header).toMatchObject({ pid: 0, seq: 0 });
    expect(errnoOf(c.request(ovsVportFamily, OVS_VPORT_CMD.GET, { name: 'd0' }))).toBe(Errno.ENODEV);
  });
  it('a full receive queue drops datagrams and the next read is ENOBUFS', () => {
    const listener = new TestClient(kernel, { rcvbuf: 2000 });
    void listener.sock.joinGroup(kernel.ovs!.families.vport.mcgrps[0]!.id);
    for (let i = 0; i < 3; i++) c.newVport(dp, `d${i}`, NETDEV);
    expect(() => listener.drain()).toThrow(/ENOBUFS/);
    expect(listener.drain().length).toBeGreaterThan(0);
  });
});
