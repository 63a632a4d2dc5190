/**
 * rtnetlink link and qdisc messages against the golden captures (OVS 3.1 and
 * Linux 6.1.192): every NETLINK_ROUTE message decodes through the public
 * decode(), re-encodes byte for byte (directly and through JSON), and holds
 * the values read off its hex by hand.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTR_ORDER } from './attr-order.js';
import { hex } from './hex.js';
import { NetlinkDecodeError } from './errors.js';
import { type Message, decode, encode } from './message.js';
import { NLM_F, NetlinkProtocol } from './netlink.js';
import {
  ARPHRD_ETHER,
  IFF,
  IF_OPER,
  RTM,
  RTMGRP_LINK,
  RTNLGRP_LINK,
  type RtnlLinkMessage,
  type RtnlMessage,
  type RtnlQdiscMessage,
  TC_H,
  XDP_ATTACHED,
  decodeRtnl,
  ifinfomsg,
  iflaAttrs,
  rtmName,
  rtnlFromJson,
  rtnlLinkIfmap,
  rtnlLinkStats,
  rtnlLinkStats64,
  rtnlToJson,
  tcmsg,
} from './rtnetlink.js';

// /work/main/packages/genl-codec/src -> /work/shared/golden (CI keeps ../shared beside the checkout too).
const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));
const FILES = ['dpctl-datapath.json', 'dpctl-ports.json', 'dpctl-errors.json', 'raw-genl.json', 'vswitchd-ports.json'];

interface Golden {
  protocol: string;
  cmd: string | null;
  hex: string;
  packet: number;
  note?: string;
}
const captures = new Map(FILES.map((f) => [f, (JSON.parse(readFileSync(GOLDEN + f, 'utf8')) as { messages: Golden[] }).messages]));

const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

function decodeOne(h: string): Message {
  const r = decode(bytes(h), { protocol: NetlinkProtocol.NETLINK_ROUTE });
  if (!r.ok) throw r.error;
  expect(r.messages).toHaveLength(1);
  return r.messages[0]!;
}

function link(h: string): RtnlLinkMessage {
  const m = decodeOne(h);
  if (m.kind !== 'rtnl' || m.family !== 'link') throw new Error(`not a link message: ${m.kind}`);
  return m;
}

function qdisc(h: string): RtnlQdiscMessage {
  const m = decodeOne(h);
  if (m.kind !== 'rtnl' || m.family !== 'qdisc') throw new Error(`not a qdisc message: ${m.kind}`);
  return m;
}

/** The one golden message of `cmd` whose note contains `text` (the hex of repeats is identical but for seq/pid). */
function golden(file: string, cmd: string, text: string): string {
  const m = captures.get(file)!.find((g) => g.cmd === cmd && g.note?.includes(text));
  if (!m) throw new Error(`no ${cmd} with ${text} in ${file}`);
  return m.hex;
}

const routeMessages = [...captures].flatMap(([file, msgs]) => msgs.filter((m) => m.protocol === 'NETLINK_ROUTE').map((m) => ({ file, ...m })));

describe('constants (Linux 6.1 uapi)', () => {
  it('has the rtnetlink numbers of include/uapi/linux/rtnetlink.h', () => {
    expect([RTM.NEWLINK, RTM.DELLINK, RTM.GETLINK, RTM.SETLINK]).toEqual([16, 17, 18, 19]);
    expect([RTM.NEWADDR, RTM.DELADDR, RTM.GETADDR, RTM.NEWROUTE, RTM.DELROUTE, RTM.GETROUTE]).toEqual([20, 21, 22, 24, 25, 26]);
    expect([RTM.NEWQDISC, RTM.DELQDISC, RTM.GETQDISC]).toEqual([36, 37, 38]);
    expect([RTNLGRP_LINK, RTMGRP_LINK]).toEqual([1, 1]);
    expect(rtmName(16)).toBe('RTM_NEWLINK');
    expect(rtmName(37)).toBe('RTM_DELQDISC');
    expect(rtmName(23)).toBeUndefined();
  });

  it('has the struct sizes of the 64-bit uapi', () => {
    expect(ifinfomsg.size).toBe(16);
    expect(tcmsg.size).toBe(20);
    expect(rtnlLinkStats.size).toBe(96);
    expect(rtnlLinkStats64.size).toBe(200);
    expect(rtnlLinkIfmap.size).toBe(32);
  });

  it('numbers IFLA_* up to IFLA_ALLMULTI (61)', () => {
    const byName = (n: string) => iflaAttrs.byName.get(n)?.def.type;
    expect(iflaAttrs.maxType).toBe(61);
    expect(byName('IFLA_IFNAME')).toBe(3);
    expect(byName('IFLA_LINKINFO')).toBe(18);
    expect(byName('IFLA_STATS64')).toBe(23);
    expect(byName('IFLA_XDP')).toBe(43);
    expect(byName('IFLA_TSO_MAX_SEGS')).toBe(60);
    // Every number 1..61 is declared exactly once.
    expect(iflaAttrs.entries.map((e) => e.def.type).sort((a, b) => a - b)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
  });
});

describe('golden NETLINK_ROUTE messages', () => {
  it('covers the link and qdisc requests and notifications the captures hold', () => {
    const cmds = new Set(routeMessages.map((m) => m.cmd));
    expect([...cmds].sort()).toEqual(['NLMSG_ERROR', 'RTM_DELLINK', 'RTM_DELQDISC', 'RTM_NEWLINK', 'RTM_SETLINK']);
  });

  it('decodes every one and re-encodes it byte for byte', () => {
    for (const g of routeMessages) {
      const msg = decodeOne(g.hex);
      expect(msg.kind, `${g.file} packet ${g.packet}`).toBe(g.cmd === 'NLMSG_ERROR' ? 'error' : 'rtnl');
      expect(hex(encode(msg)), `${g.file} packet ${g.packet} ${g.cmd}`).toBe(g.hex);
    }
  });

  it('decodes the requests NLMSG_ERROR echoes and re-encodes them', () => {
    let echoed = 0;
    for (const g of routeMessages.filter((m) => m.cmd === 'NLMSG_ERROR')) {
      const err = decodeOne(g.hex);
      if (err.kind !== 'error') throw new Error('not an error');
      if (err.header.flags & NLM_F.CAPPED) continue; // only the request's nlmsghdr was echoed
      const req = decodeOne(hex(err.request));
      echoed++;
      expect(req.kind).toBe('rtnl');
      expect(hex(encode(req))).toBe(hex(err.request));
    }
    expect(echoed).toBeGreaterThan(0);
  });

  it('round-trips every rtnetlink payload through rtnlToJson / rtnlFromJson', () => {
    for (const g of routeMessages.filter((m) => m.cmd !== 'NLMSG_ERROR')) {
      const msg = decodeOne(g.hex) as RtnlMessage;
      const json = JSON.parse(JSON.stringify(rtnlToJson(msg))) as Record<string, unknown>;
      const back = rtnlFromJson(json, msg.header, msg.protocol);
      expect(hex(encode(back)), `${g.file} packet ${g.packet} ${g.cmd}`).toBe(g.hex);
    }
  });
});

describe('RTM_NEWLINK requests of OVS 3.1', () => {
  it('vxlan_sys_4789: kind vxlan, typed IFLA_VXLAN_* data', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_NEWLINK', 'ifname=vxlan_sys_4789'));
    expect(m.header.type).toBe(RTM.NEWLINK);
    expect(m.header.flags).toBe(NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE); // 0x605
    // ifinfomsg 00 00 0000 00000000 01000000 01000000: bring it up (flags = change = IFF_UP).
    expect(m.ifinfomsg).toEqual({ family: 0, pad: 0, type: 0, index: 0, flags: IFF.UP, change: IFF.UP });
    expect(m.attrs.ifname).toBe('vxlan_sys_4789'); // 1300 0300 "vxlan_sys_4789\0"
    expect(m.attrs.mtu).toBe(65000); // 0800 0400 e8fd0000
    const li = m.attrs.linkinfo!;
    expect(li.kind).toBe('vxlan'); // 0a00 0100 "vxlan\0"
    if (li.data?.set !== 'vxlan') throw new Error('IFLA_INFO_DATA not typed as vxlan');
    // 0500 0700 00 | 0500 1900 01 | 0500 1400 01 | 0600 0f00 12b5
    expect({ ...li.data.attrs }).toEqual({ learning: 0, collectMetadata: 1, udpZeroCsum6Rx: 1, port: 4789 });
    // OVS writes PORT last, out of vxlan_fill_info() order: the layout is recorded.
    expect(li.data.attrs[ATTR_ORDER]).toEqual([7, 25, 20, 15]);
    // IFNAME, MTU, LINKINFO is the kernel's own order.
    expect(m.attrs[ATTR_ORDER]).toBeUndefined();
  });

  it('vxlan_sys_4790: the dst_port option lands in IFLA_VXLAN_PORT', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_NEWLINK', 'ifname=vxlan_sys_4790'));
    expect(m.attrs.ifname).toBe('vxlan_sys_4790');
    const data = m.attrs.linkinfo?.data;
    expect(data?.set === 'vxlan' && data.attrs.port).toBe(4790); // 12b6
  });

  it('genev_sys_6081: kind geneve, COLLECT_METADATA is a flag', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_NEWLINK', 'kind=geneve'));
    expect(m.attrs.ifname).toBe('genev_sys_6081');
    expect(m.attrs.mtu).toBe(65000);
    const li = m.attrs.linkinfo!;
    expect(li.kind).toBe('geneve');
    if (li.data?.set !== 'geneve') throw new Error('IFLA_INFO_DATA not typed as geneve');
    // 0400 0600 | 0500 0a00 01 | 0600 0500 17c1
    expect({ ...li.data.attrs }).toEqual({ collectMetadata: true, udpZeroCsum6Rx: 1, port: 6081 });
  });

  it('gre_sys: kind gretap decodes with the IFLA_GRE_* set', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_NEWLINK', 'ifname=gre_sys'));
    expect(m.attrs.ifname).toBe('gre_sys'); // 0c00 0300 "gre_sys\0"
    const li = m.attrs.linkinfo!;
    expect(li.kind).toBe('gretap');
    if (li.data?.set !== 'gre') throw new Error('IFLA_INFO_DATA not typed as gre');
    expect({ ...li.data.attrs }).toEqual({ collectMetadata: true }); // 0400 1200
  });

  it('ovs_geneve (the out-of-tree kind the kernel refuses): IFLA_INFO_DATA stays raw', () => {
    const m = link(golden('dpctl-datapath.json', 'RTM_NEWLINK', 'kind=ovs_geneve'));
    expect(m.header.flags).toBe(NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE);
    expect(m.attrs.ifname).toBe('genev_sys_6081');
    const li = m.attrs.linkinfo!;
    expect(li.kind).toBe('ovs_geneve');
    expect(li.data?.set).toBe('raw');
    expect(li.data?.set === 'raw' && hex(li.data.bytes)).toBe('0400060005000a00010000000600050017c10000');
    expect(rtnlToJson(m)).toMatchObject({
      attrs: { IFLA_LINKINFO: { IFLA_INFO_KIND: 'ovs_geneve', IFLA_INFO_DATA: '0400060005000a00010000000600050017c10000' } },
    });
  });

  it('the kernel refuses ovs_geneve with EOPNOTSUPP and echoes the request', () => {
    const err = decodeOne(golden('dpctl-datapath.json', 'NLMSG_ERROR', 'RTM_NEWLINK'));
    if (err.kind !== 'error') throw new Error('not an error');
    expect(err.error).toBe(-95);
    expect(err.ext?.msg).toBe('Unknown device type');
    const req = decodeOne(hex(err.request));
    expect(req.kind === 'rtnl' && req.family === 'link' && req.attrs.linkinfo?.kind).toBe('ovs_geneve');
  });
});

describe('other link requests', () => {
  it('RTM_SETLINK gre_sys: MTU 65000 by name, ifinfomsg all zero', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_SETLINK', 'gre_sys'));
    expect(m.header.type).toBe(RTM.SETLINK);
    expect(m.ifinfomsg).toEqual({ family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 });
    expect({ ...m.attrs }).toEqual({ ifname: 'gre_sys', mtu: 65000 });
  });

  it('RTM_DELLINK request: the device by name only', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_DELLINK', 'ifindex=0 ifname=vxlan_sys_4789'));
    expect(m.header.flags).toBe(NLM_F.REQUEST | NLM_F.ACK);
    expect(m.ifinfomsg.index).toBe(0);
    expect({ ...m.attrs }).toEqual({ ifname: 'vxlan_sys_4789' });
  });
});

describe('RTM_DELLINK notifications from the kernel', () => {
  it('vxlan_sys_4789: every attribute of rtnl_fill_ifinfo(), in declaration order', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_DELLINK', 'ifindex=138'));
    expect(m.header.flags).toBe(0);
    expect(m.ifinfomsg).toEqual({
      family: 0,
      pad: 0,
      type: ARPHRD_ETHER,
      index: 138,
      flags: IFF.BROADCAST | IFF.MULTICAST, // 0x1002: down
      change: 0xffffffff,
    });
    const a = m.attrs;
    // The kernel's order is the declaration order: nothing to record.
    expect(a[ATTR_ORDER]).toBeUndefined();
    expect(a.unknown).toBeUndefined();
    expect(a).toMatchObject({
      ifname: 'vxlan_sys_4789',
      txqlen: 1000,
      operstate: IF_OPER.DOWN,
      linkmode: 0,
      mtu: 65000,
      minMtu: 68,
      maxMtu: 65535,
      group: 0,
      promiscuity: 0,
      allmulti: 0,
      numTxQueues: 1,
      gsoMaxSegs: 65535,
      gsoMaxSize: 65536,
      groMaxSize: 65536,
      tsoMaxSize: 65536,
      tsoMaxSegs: 65535,
      numRxQueues: 1,
      carrier: 1,
      qdisc: 'noop',
      carrierChanges: 0,
      carrierUpCount: 0,
      carrierDownCount: 0,
      protoDown: 0,
    });
    expect(a.map).toEqual({ memStart: 0n, memEnd: 0n, baseAddr: 0n, irq: 0, dma: 0, port: 0, pad: 0 });
    expect(hex(a.address!)).toBe('ee16a19e1a2e');
    expect(hex(a.broadcast!)).toBe('ffffffffffff');
    expect(a.stats64?.txErrors).toBe(1n);
    expect(a.stats64?.txCarrierErrors).toBe(1n);
    expect(a.stats64?.rxOtherhostDropped).toBe(0n);
    expect(a.stats?.txErrors).toBe(1);
    expect(a.stats?.txCarrierErrors).toBe(1);
    expect(a.stats?.rxPackets).toBe(0);
    expect({ ...a.xdp }).toEqual({ attached: XDP_ATTACHED.NONE });
    expect(a.link).toBeUndefined(); // vxlan has no iflink
    expect(a.afSpec).toEqual(new Uint8Array(0));

    const li = a.linkinfo!;
    expect(li.kind).toBe('vxlan');
    if (li.data?.set !== 'vxlan') throw new Error('IFLA_INFO_DATA not typed as vxlan');
    expect(li.data.attrs[ATTR_ORDER]).toBeUndefined();
    expect({ ...li.data.attrs }).toEqual({
      id: 0,
      ttl: 0,
      ttlInherit: 0, // a u8 here, though requests send it as a flag
      df: 0,
      label: 0,
      tos: 0,
      learning: 0,
      proxy: 0,
      rsc: 0,
      l2miss: 0,
      l3miss: 0,
      collectMetadata: 1,
      ageing: 300, // 2c010000
      limit: 0,
      port: 4789,
      udpCsum: 1,
      udpZeroCsum6Tx: 0,
      udpZeroCsum6Rx: 1,
      remcsumTx: 0,
      remcsumRx: 0,
      portRange: { low: 0, high: 0 },
    });
  });

  it('genev_sys_6081: IFLA_GENEVE_* in geneve_fill_info() order', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_DELLINK', 'ifindex=139'));
    expect(m.ifinfomsg.index).toBe(139);
    expect(m.attrs[ATTR_ORDER]).toBeUndefined();
    expect(m.attrs.maxMtu).toBe(65465); // b9ff0000
    expect(m.attrs.stats?.txDropped).toBe(7);
    expect(m.attrs.stats64?.txDropped).toBe(7n);
    const data = m.attrs.linkinfo?.data;
    if (data?.set !== 'geneve') throw new Error('IFLA_INFO_DATA not typed as geneve');
    expect(data.attrs[ATTR_ORDER]).toBeUndefined();
    expect({ ...data.attrs }).toEqual({ id: 0, ttl: 0, tos: 0, df: 0, label: 0, port: 6081, collectMetadata: true, udpZeroCsum6Rx: 1, ttlInherit: 0 });
  });

  it('gre_sys (gretap): IFLA_GRE_* in ipgre_fill_info() order, then IFLA_LINK 0', () => {
    const m = link(golden('vswitchd-ports.json', 'RTM_DELLINK', 'ifindex=140'));
    expect(m.attrs[ATTR_ORDER]).toBeUndefined();
    expect(m.attrs.ifname).toBe('gre_sys');
    expect(m.attrs.link).toBe(0); // written after IFLA_LINKINFO (rtnl_fill_link_netnsid)
    expect(m.attrs.linkinfo?.kind).toBe('gretap');
    const data = m.attrs.linkinfo?.data;
    if (data?.set !== 'gre') throw new Error('IFLA_INFO_DATA not typed as gre');
    expect(data.attrs[ATTR_ORDER]).toBeUndefined();
    expect({ ...data.attrs, local: hex(data.attrs.local!), remote: hex(data.attrs.remote!) }).toEqual({
      link: 0,
      iflags: 0,
      oflags: 0,
      ikey: 0,
      okey: 0,
      local: '00000000',
      remote: '00000000',
      ttl: 0,
      tos: 0,
      pmtudisc: 1,
      fwmark: 0,
      encapType: 0,
      encapSport: 0,
      encapDport: 0,
      encapFlags: 0,
      ignoreDf: 0,
      collectMetadata: true,
    });
  });

  it('shows struct fields by C name and attributes by uapi name in JSON', () => {
    const json = rtnlToJson(link(golden('vswitchd-ports.json', 'RTM_DELLINK', 'ifindex=138')));
    expect(json).toMatchObject({ ifi_family: 0, ifi_type: 1, ifi_index: 138, ifi_flags: 0x1002, ifi_change: 0xffffffff });
    expect(json).not.toHaveProperty('__ifi_pad');
    expect(json).not.toHaveProperty('family'); // message JSON uses "family" for generic netlink families
    expect(json.attrs).toMatchObject({
      IFLA_IFNAME: 'vxlan_sys_4789',
      IFLA_OPERSTATE: 'IF_OPER_DOWN',
      IFLA_LINKINFO: { IFLA_INFO_KIND: 'vxlan', IFLA_INFO_DATA: { IFLA_VXLAN_PORT: 4789, IFLA_VXLAN_PORT_RANGE: { low: 0, high: 0 } } },
      IFLA_XDP: { IFLA_XDP_ATTACHED: 'XDP_ATTACHED_NONE' },
    });
  });
});

describe('RTM_DELQDISC requests of OVS 3.1', () => {
  it('deletes the ingress qdisc: parent TC_H_INGRESS, handle ffff:, TCA_KIND "ingress", empty TCA_OPTIONS', () => {
    const m = qdisc(golden('vswitchd-ports.json', 'RTM_DELQDISC', 'add-br br0'));
    expect(m.header.type).toBe(RTM.DELQDISC);
    expect(m.header.flags).toBe(NLM_F.REQUEST);
    expect(m.tcmsg).toEqual({ family: 0, pad1: 0, pad2: 0, ifindex: 136, handle: 0xffff0000, parent: TC_H.INGRESS, info: 0 });
    expect(m.attrs.kind).toBe('ingress');
    expect(m.attrs.options).toEqual(new Uint8Array(0));
    expect(rtnlToJson(m)).toEqual({
      tcm_family: 0,
      tcm_ifindex: 136,
      tcm_handle: 0xffff0000,
      tcm_parent: 0xfffffff1,
      tcm_info: 0,
      attrs: { TCA_KIND: 'ingress', TCA_OPTIONS: '' },
    });
  });

  it('deletes the root qdisc: a bare tcmsg', () => {
    const h = captures.get('vswitchd-ports.json')!.find((g) => g.cmd === 'RTM_DELQDISC' && g.hex.length === 72)!.hex;
    const m = qdisc(h);
    expect(m.tcmsg).toEqual({ family: 0, pad1: 0, pad2: 0, ifindex: 134, handle: 0, parent: TC_H.ROOT, info: 0 });
    expect({ ...m.attrs }).toEqual({});
  });
});

describe('hand-built messages', () => {
  // ip link add veth0 type veth peer name veth1, laid out by hand:
  const vethHex = [
    '60000000',
    '1000',
    '0506',
    '01000000',
    '00000000', // nlmsghdr: 96 bytes, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE, seq 1
    '00000000000000000000000000000000', // ifinfomsg
    '0a000300',
    '7665746830000000', // IFLA_IFNAME "veth0\0" + 2 bytes padding
    '34001200', // IFLA_LINKINFO, 52 bytes
    '09000100',
    '7665746800000000', // IFLA_INFO_KIND "veth\0" + 3 bytes padding
    '24000200', // IFLA_INFO_DATA, 36 bytes
    '20000100', // VETH_INFO_PEER, 32 bytes
    '00000000000000000000000000000000', // the peer's ifinfomsg
    '0a000300',
    '7665746831000000', // its IFLA_IFNAME "veth1\0"
  ].join('');

  const veth: RtnlLinkMessage = {
    kind: 'rtnl',
    protocol: NetlinkProtocol.NETLINK_ROUTE,
    header: { len: 0, type: RTM.NEWLINK, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE, seq: 1, pid: 0 },
    family: 'link',
    ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 },
    attrs: {
      ifname: 'veth0',
      linkinfo: {
        kind: 'veth',
        data: {
          set: 'veth',
          attrs: { peer: { ifinfomsg: { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 }, attrs: { ifname: 'veth1' } } },
        },
      },
    },
  };

  it('encodes a veth pair request (VETH_INFO_PEER: ifinfomsg + IFLA attributes)', () => {
    expect(hex(encode(veth))).toBe(vethHex);
  });

  it('decodes it back to the same typed values', () => {
    const m = link(vethHex);
    expect(m.attrs.ifname).toBe('veth0');
    const data = m.attrs.linkinfo?.data;
    if (data?.set !== 'veth') throw new Error('IFLA_INFO_DATA not typed as veth');
    expect(data.attrs.peer?.ifinfomsg.index).toBe(0);
    expect({ ...data.attrs.peer?.attrs }).toEqual({ ifname: 'veth1' });
    const back = rtnlFromJson(JSON.parse(JSON.stringify(rtnlToJson(m))) as Record<string, unknown>, m.header, m.protocol);
    expect(hex(encode(back))).toBe(vethHex);
  });

  it('keeps the NUL-less IFLA_INFO_KIND iproute2 sends, and still types the data', () => {
    // IFLA_LINKINFO { IFLA_INFO_DATA { IFLA_VXLAN_ID 42 }, IFLA_INFO_KIND "vxlan" (no NUL) }: DATA before KIND.
    const payload = '00000000000000000000000000000000' + '1c001200' + '0c000200' + '080001002a000000' + '09000100' + '76786c616e000000';
    const h = '3c000000' + '1000' + '0100' + '00000000' + '00000000' + payload; // 16 + 16 + 28 bytes
    const m = link(h);
    const li = m.attrs.linkinfo!;
    expect(li.kind).toBe('vxlan');
    expect(li.data?.set === 'vxlan' && li.data.attrs.id).toBe(42);
    expect(hex(encode(m))).toBe(h);
    const back = rtnlFromJson(JSON.parse(JSON.stringify(rtnlToJson(m))) as Record<string, unknown>, m.header, m.protocol);
    expect(hex(encode(back))).toBe(h);
  });

  // iproute2 sends IFLA_INFO_KIND without its NUL: that is recorded on the kind, not on the nest.
  it('shows NO_NUL on IFLA_INFO_KIND only, not on IFLA_LINKINFO', () => {
    const payload = '00000000000000000000000000000000' + '1c001200' + '0c000200' + '080001002a000000' + '09000100' + '76786c616e000000';
    const m = link('3c000000' + '1000' + '0100' + '00000000' + '00000000' + payload);
    expect(rtnlToJson(m).attrs).toEqual({
      IFLA_LINKINFO: { IFLA_INFO_DATA: { IFLA_VXLAN_ID: 42 }, IFLA_INFO_KIND: { value: 'vxlan', flags: ['NO_NUL'] } },
    });
  });

  it('reads IFLA_VXLAN_TTL_INHERIT as the flag requests send', () => {
    const data = new Uint8Array([4, 0, 28, 0]);
    const m = link(
      '38000000' +
        '1000' +
        '0100' +
        '00000000' +
        '00000000' +
        '00000000000000000000000000000000' +
        '18001200' +
        '0a000100' +
        '76786c616e000000' +
        '08000200' +
        hex(data),
    );
    expect(m.attrs.linkinfo?.data).toEqual({ set: 'vxlan', attrs: { ttlInherit: true } });
  });
});

describe('malformed and unmodeled payloads', () => {
  const hdr = (len: number, type: number) => new Uint8Array(new Uint32Array([len, type | (NLM_F.REQUEST << 16), 1, 0]).buffer);

  it('rejects a link message shorter than struct ifinfomsg, naming the offset', () => {
    const r = decode(Uint8Array.from([...hdr(24, RTM.NEWLINK), 0, 0, 0, 0, 0, 0, 0, 0]), { protocol: 0 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(NetlinkDecodeError);
    expect(r.error.offset).toBe(16);
    expect(r.error.reason).toMatch(/RTM_NEWLINK payload of 8 bytes is shorter than struct ifinfomsg/);
  });

  it('rejects a qdisc message shorter than struct tcmsg', () => {
    const buf = Uint8Array.from([...hdr(32, RTM.DELQDISC), ...new Uint8Array(16)]);
    expect(() => decodeRtnl(buf, new DataView(buf.buffer), { len: 32, type: RTM.DELQDISC, flags: 1, seq: 1, pid: 0 }, 16, 32)).toThrow(NetlinkDecodeError);
  });

  it('keeps an old-style link dump request (struct rtgenmsg) raw, as the kernel accepts it', () => {
    const m = decodeOne(hex(Uint8Array.from([...hdr(20, RTM.GETLINK), 0, 0, 0, 0])));
    expect(m.kind).toBe('raw');
  });

  it('keeps message types it does not model raw', () => {
    const m = decodeOne(hex(Uint8Array.from([...hdr(28, RTM.GETNEIGH), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
    expect(m.kind).toBe('raw');
  });

  it('reports a known kind whose IFLA_INFO_DATA does not parse', () => {
    // IFLA_INFO_KIND "vxlan", IFLA_INFO_DATA { IFLA_VXLAN_PORT with 3 bytes }
    const attrs = '1c001200' + '0a000100' + '76786c616e000000' + '0c000200' + '07000f00' + '12b50000';
    const h = '3c000000' + '1000' + '0100' + '00000000' + '00000000' + '00000000000000000000000000000000' + attrs;
    const r = decode(bytes(h), { protocol: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.offset).toBe(52); // the IFLA_VXLAN_PORT header: 16 + 16 + LINKINFO 4 + KIND 12 + DATA 4
      expect(r.error.reason).toMatch(/IFLA_VXLAN_PORT/);
    }
  });
});
