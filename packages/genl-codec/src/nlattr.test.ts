/**
 * The kernel-style attribute readers: attribute numbers derived from the
 * sets, and nla_get_*() over what nlaParse() found.
 */
import { describe, expect, it } from 'vitest';
import { AttrSet, attr } from './attr-set.js';
import { binary } from './codecs.js';
import { ETHTOOL_A_HEADER } from './ethtool.js';
import { NLA_F_NESTED } from './netlink.js';
import {
  type AttrTable,
  nlaData,
  nlaFindNested,
  nlaForEachNested,
  nlaGetBe16,
  nlaGetBe32,
  nlaGetFlag,
  nlaGetInAddr,
  nlaGetS32,
  nlaGetStruct,
  nlaGetU32Array,
  nlaGetU16,
  nlaGetU32,
  nlaGetU64,
  nlaGetU8,
  nlaLen,
  nlaMemcpy,
  nlaParse,
  nlaParseNested,
  nlaStrscpy,
  nlaType,
} from './nlattr.js';
import { OVS_TUNNEL_ATTR, OVS_VPORT_ATTR, ovsTunnelAttrs, ovsVportAttrs } from './ovs.js';
import { IFLA, IFLA_INFO, TCA, iflaAttrs, iflaVxlanPortRange } from './rtnetlink.js';
import { NetlinkErrnoError } from './errors.js';
import { IFA, RTA, ifaCacheinfo } from './rtnetlink-route.js';
import { rawAttrs } from './testing/nla.js';

/** A set that lets any payload through: the readers do not look at policies. */
const anyAttrs = new AttrSet('t', { a: attr(1, 'T_A', binary()), b: attr(2, 'T_B', binary()), c: attr(3, 'T_C', binary()) });

function parse(set: Parameters<typeof nlaParse>[0], b: Uint8Array): AttrTable {
  const r = nlaParse(set, b, 0, b.length);
  if ('failure' in r) throw new Error(r.failure.message);
  return r.tb;
}

describe('attribute numbers', () => {
  it('come from the sets, keyed by uapi name', () => {
    expect(IFLA.MTU).toBe(4);
    expect(IFLA.LINKINFO).toBe(18);
    expect(IFLA.TARGET_NETNSID).toBe(IFLA.IF_NETNSID);
    expect(IFLA_INFO).toMatchObject({ KIND: 1, DATA: 2, SLAVE_DATA: 5 });
    expect(TCA.OPTIONS).toBe(2);
    expect(IFA.CACHEINFO).toBe(6);
    expect(RTA.NH_ID).toBe(30);
    expect(OVS_VPORT_ATTR.UPCALL_PID).toBe(5);
    expect(ETHTOOL_A_HEADER).toEqual({ DEV_INDEX: 1, DEV_NAME: 2, FLAGS: 3 });
    expect(iflaAttrs.type('mtu')).toBe(4);
    expect(Object.isFrozen(IFLA)).toBe(true);
  });

  it('only declared names compile', () => {
    // @ts-expect-error IFLA_MTUU is not an attribute.
    expect(IFLA.MTUU).toBeUndefined();
    // @ts-expect-error no key 'mtuu' in iflaAttrs.
    expect(() => iflaAttrs.type('mtuu')).toThrow();
  });
});

describe('nla_get_*', () => {
  it('read integers in host and network order, with a default for an absent attribute', () => {
    const tb = parse(anyAttrs, rawAttrs([1, [0x78, 0x56, 0x34, 0x12]], [2, [0xfe, 0xff, 0xff, 0xff]]));
    const a = tb[1]!;
    expect(nlaGetU32(a)).toBe(0x12345678);
    expect(nlaGetBe32(a)).toBe(0x78563412);
    expect(nlaGetU16(a)).toBe(0x5678);
    expect(nlaGetBe16(a)).toBe(0x7856);
    expect(nlaGetU8(a)).toBe(0x78);
    expect(nlaGetS32(tb[2]!)).toBe(-2);
    expect(nlaGetU32(tb[3], 7)).toBe(7);
    expect(nlaGetFlag(tb[3])).toBe(false);
    expect(nlaGetFlag(a)).toBe(true);
    expect(nlaType(a)).toBe(1);
    expect(nlaLen(a)).toBe(4);
  });

  it('read u64, addresses, bytes and strings', () => {
    const b = rawAttrs([1, [1, 0, 0, 0, 0, 0, 0, 0x80]], [2, [10, 0, 0, 1]], [3, [...Buffer.from('eth0'), 0, 0x41]]);
    const tb = parse(anyAttrs, b);
    expect(nlaGetU64(tb[1]!)).toBe(0x8000000000000001n);
    expect(nlaGetInAddr(tb[2]!)).toEqual(Uint8Array.of(10, 0, 0, 1));
    expect(nlaData(tb[2]!)).toEqual(Uint8Array.of(10, 0, 0, 1));
    expect(nlaMemcpy(tb[2]!, 6)).toEqual(Uint8Array.of(10, 0, 0, 1, 0, 0));
    expect(nlaMemcpy(tb[2]!, 2)).toEqual(Uint8Array.of(10, 0));
    expect(nlaStrscpy(tb[3]!)).toBe('eth0');
    expect(nlaStrscpy(tb[3]!, 3)).toBe('et');
  });

  it('read structs, refusing a payload shorter than the struct', () => {
    const tb = parse(anyAttrs, rawAttrs([1, [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]], [2, [0x12, 0xb5, 0x12, 0xb6]]));
    expect(nlaGetStruct(tb[1]!, ifaCacheinfo)).toEqual({ prefered: 1, valid: 2, cstamp: 3, tstamp: 4 });
    expect(nlaGetStruct(tb[2]!, iflaVxlanPortRange)).toEqual({ low: 4789, high: 4790 });
    expect(() => nlaGetStruct(tb[2]!, ifaCacheinfo)).toThrow(NetlinkErrnoError);
    expect(nlaGetU32Array(tb[1]!)).toEqual([1, 2, 3, 4]);
    expect(nlaGetU32Array(tb[2]!)).toEqual([0xb612b512]);
  });

  it('parse and walk nests', () => {
    const inner = rawAttrs([OVS_TUNNEL_ATTR.DST_PORT, [0xb5, 0x12]], [OVS_TUNNEL_ATTR.DST_PORT, [0x17, 0xc1]]);
    const b = rawAttrs([OVS_VPORT_ATTR.OPTIONS | NLA_F_NESTED, inner]);
    const opts = parse(ovsVportAttrs, b)[OVS_VPORT_ATTR.OPTIONS]!;
    const r = nlaParseNested(ovsTunnelAttrs, opts);
    // nla_parse keeps the last; nla_find_nested finds the first; the walk sees both.
    expect('tb' in r && nlaGetU16(r.tb[OVS_TUNNEL_ATTR.DST_PORT]!)).toBe(0xc117);
    expect(nlaGetU16(nlaFindNested(opts, OVS_TUNNEL_ATTR.DST_PORT)!)).toBe(4789);
    expect([...nlaForEachNested(opts)].map((a) => nlaGetU16(a))).toEqual([4789, 0xc117]);
    expect(nlaFindNested(opts, 2)).toBeUndefined();
  });
});
