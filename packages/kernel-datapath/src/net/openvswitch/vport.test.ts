/**
 * What rtnetlink tells RTNLGRP_LINK while tunnel vports come and go, against
 * the kernel lab's Linux 6.1 (testing/lab/tunnel-dellink.json says how it was
 * captured): the device comes up in its own RTM_NEWLINK, gets its master and
 * promiscuity, loses them on OVS_VPORT_CMD_DEL, and its RTM_DELLINK reports
 * the promiscuity the device has then: 0 once the vport let go of it, 1 if
 * `ip link set promisc on` holds it; deleted under its vport with `ip link
 * del`, the vport's detach runs in NETDEV_UNREGISTER, before RTM_DELLINK.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  IFF,
  type Message,
  NLM_F,
  NetlinkProtocol,
  OVS_VPORT_CMD,
  OVS_VPORT_TYPE,
  RTM,
  type RtnlLinkMessage,
  decode,
  encode,
  messageToJson,
  ovsVportFamily,
} from '@ovs/genl-codec';
import { describe, expect, it } from 'vitest';
import { ipLinkDel } from '../../tools/iplink.js';
import { Kernel } from '../../kernel.js';
import type { KernelSocket } from '../netlink/af_netlink.js';
import { TestClient, drain } from '../../testing/index.js';

const lab = JSON.parse(readFileSync(fileURLToPath(new URL('../../testing/lab/tunnel-dellink.json', import.meta.url)), 'utf8')) as {
  notifications: Record<string, string[]>;
};

const ROUTE = NetlinkProtocol.NETLINK_ROUTE;

/**
 * A link notification as JSON, without what differs between two kernels for
 * reasons other than this behaviour: ifindexes (the master's becomes "set"),
 * MAC addresses, counters, the per-protocol settings (IFLA_AF_SPEC) and the
 * attributes the model leaves out (IFLA_STATS*, see the README).
 */
function shape(m: Message): Record<string, unknown> {
  const j = JSON.parse(JSON.stringify(messageToJson(m))) as Record<string, Record<string, unknown>>;
  const attrs = { ...j.attrs! };
  for (const k of ['IFLA_STATS64', 'IFLA_STATS', 'IFLA_AF_SPEC', 'IFLA_ADDRESS', 'IFLA_PERM_ADDRESS', 'IFLA_LINK']) delete attrs[k];
  if (attrs.IFLA_MASTER !== undefined) attrs.IFLA_MASTER = 'set';
  const ifi = { ...j.ifinfomsg!, ifi_index: 'x' };
  return { type: j.nlmsg_type, flags: j.nlmsg_flags, ifinfomsg: ifi, attrs };
}

function labMessages(label: string): Record<string, unknown>[] {
  return lab.notifications[label]!.flatMap((h) => {
    const r = decode(Buffer.from(h, 'hex'), { protocol: ROUTE });
    if (!r.ok) throw r.error;
    return r.messages.map(shape);
  });
}

/** The link messages queued on a monitor, as the lab file has them. */
function shapes(s: KernelSocket): Record<string, unknown>[] {
  return drain(s).map(shape);
}

function promiscOn(rt: KernelSocket, name: string): void {
  const msg: RtnlLinkMessage = {
    kind: 'rtnl',
    protocol: ROUTE,
    header: { len: 0, type: RTM.NEWLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 7, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: IFF.PROMISC, change: IFF.PROMISC },
    attrs: { ifname: name },
  };
  rt.sendSync(encode(msg));
}

describe('RTNLGRP_LINK around tunnel vports (Linux 6.1, kernel lab)', () => {
  const kernel = new Kernel();
  const c = new TestClient(kernel);
  const mon = kernel.socket({ protocol: ROUTE });
  kernel.joinGroup(mon, 1); // RTNLGRP_LINK
  const rt = kernel.socket({ protocol: ROUTE });
  const dp = c.newDatapath('dp0', { userFeatures: 0 });
  shapes(mon);
  const vxlan = (name: string, dstPort: number) => c.newVport(dp, name, OVS_VPORT_TYPE.VXLAN, { upcallPid: [0], options: { dstPort } });
  const del = (name: string) => c.request(ovsVportFamily, OVS_VPORT_CMD.DEL, { name }, { dpIfindex: dp });

  it('OVS_VPORT_CMD_NEW: created, up (its own RTM_NEWLINK), enslaved, promiscuous', () => {
    vxlan('vx0', 4789);
    expect(shapes(mon)).toEqual(labMessages('after VP_NEW vx0'));
  });
  it('OVS_VPORT_CMD_DEL: unlinked, promiscuity 0, down, then RTM_DELLINK with promiscuity 0', () => {
    del('vx0');
    expect(shapes(mon)).toEqual(labMessages('after VP_DEL vx0'));
  });
  it('ip link del under the vport: down (still enslaved), then RTM_DELLINK after the detach, nothing after it', async () => {
    vxlan('vx1', 4790);
    shapes(mon);
    await ipLinkDel(rt, 'vx1');
    rt.tryRecv();
    expect(shapes(mon)).toEqual(labMessages('after ip link del vx1'));
  });
  it('a promiscuity held by `ip link set promisc on` is still there in RTM_DELLINK', () => {
    vxlan('vx2', 4791);
    shapes(mon);
    promiscOn(rt, 'vx2');
    expect(shapes(mon)).toEqual(labMessages('after promisc on vx2'));
    del('vx2');
    expect(shapes(mon)).toEqual(labMessages('after VP_DEL vx2'));
  });
});
