/**
 * validate()/nlaParse() give the errno and extack the Linux 6.1 kernel gives
 * (lib/nlattr.c, liberal validation as the OVS families use it); expected
 * values come from the golden captures or from the kernel's rules.
 */
import { describe, expect, it } from 'vitest';
import { AttrSet, attr } from './attr-set.js';
import { flag, string, u32 } from './codecs.js';
import { Writer } from './writer.js';
import { Errno } from './errno.js';
import { NLA_F_NESTED } from './netlink.js';
import { NL_VALIDATE, nlaParse, validate } from './nlattr.js';
import { NL_ATTR_TYPE, policyDump } from './policy.js';
import { ovsDatapathAttrs, ovsVportAttrs } from './ovs.js';
import { hexToBytes } from './testing/golden.js';
import { rawAttrs } from './testing/nla.js';

const str = (s: string) => [...Buffer.from(`${s}\0`)];
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

describe('validate (liberal, as the OVS families)', () => {
  it('accepts a well-formed vport NEW', () => {
    const b = rawAttrs([2, le32(1)], [3, str('veth0')], [5, le32(782)]);
    expect(validate(ovsVportAttrs, b, 0, b.length)).toBeNull();
  });

  it('a name of 16+ characters is EINVAL: no NUL within IFNAMSIZ bytes (golden raw-genl seq 1028)', () => {
    const b = rawAttrs([2, le32(1)], [3, str('abcdefghijklmnopqrstu')]);
    expect(validate(ovsVportAttrs, b, 0, b.length)).toMatchObject({
      errno: Errno.EINVAL,
      message: 'Attribute failed policy validation',
      offset: 8,
    });
  });

  it('a name of exactly 15 characters plus NUL is accepted; without the NUL it is EINVAL', () => {
    const ok = rawAttrs([3, str('abcdefghijklmno')]);
    expect(validate(ovsVportAttrs, ok, 0, ok.length)).toBeNull();
    const noNul = rawAttrs([3, [...Buffer.from('abc')]]);
    expect(validate(ovsVportAttrs, noNul, 0, noNul.length)?.errno).toBe(Errno.EINVAL);
  });

  it('a u32 attribute shorter than 4 bytes is ERANGE; a longer one only warns', () => {
    const short = rawAttrs([1, [1, 0]]);
    expect(validate(ovsVportAttrs, short, 0, short.length)).toMatchObject({ errno: Errno.ERANGE, offset: 0 });
    const long = rawAttrs([1, [1, 0, 0, 0, 0, 0, 0, 0]]);
    expect(validate(ovsVportAttrs, long, 0, long.length)).toBeNull();
    expect(validate(ovsVportAttrs, long, 0, long.length, NL_VALIDATE.STRICT)).toMatchObject({
      errno: Errno.EINVAL,
      message: 'invalid attribute length',
    });
  });

  it('vport STATS shorter than struct ovs_vport_stats is ERANGE', () => {
    const b = rawAttrs([6, new Array(60).fill(0)]);
    expect(validate(ovsVportAttrs, b, 0, b.length)?.errno).toBe(Errno.ERANGE);
  });

  it('OVS_DP_ATTR_MASKS_CACHE_SIZE above 4096 is ERANGE "integer out of range"', () => {
    const ok = rawAttrs([7, le32(4096)]);
    expect(validate(ovsDatapathAttrs, ok, 0, ok.length)).toBeNull();
    const b = rawAttrs([7, le32(4097)]);
    expect(validate(ovsDatapathAttrs, b, 0, b.length)).toMatchObject({ errno: Errno.ERANGE, message: 'integer out of range' });
  });

  it('a negative OVS_VPORT_ATTR_IFINDEX is ERANGE (NLA_POLICY_MIN(NLA_S32, 0))', () => {
    const b = rawAttrs([8, le32(-1)]);
    expect(validate(ovsVportAttrs, b, 0, b.length)?.errno).toBe(Errno.ERANGE);
  });

  it('types above maxattr and type 0 are ignored, unless NL_VALIDATE_MAXTYPE', () => {
    // ovs_vport maxattr is 9 on Linux 6.1: UPCALL_STATS (10) is unknown there.
    const b = rawAttrs([10, [1, 2, 3]], [0, []]);
    expect(validate(ovsVportAttrs, b, 0, b.length)).toBeNull();
    expect(validate(ovsVportAttrs, b, 0, b.length, NL_VALIDATE.MAXTYPE)).toMatchObject({ errno: Errno.EINVAL, message: 'Unknown attribute type' });
  });

  it('a malformed attribute ends parsing quietly; trailing bytes only fail with NL_VALIDATE_TRAILING', () => {
    const good = rawAttrs([1, le32(5)]);
    const b = Uint8Array.from([...good, 2, 0, 3, 0]); // nla_len 2 < 4
    const r = nlaParse(ovsVportAttrs, b, 0, b.length);
    expect('tb' in r && r.tb[1]?.dataLength).toBe(4);
    expect(validate(ovsVportAttrs, b, 0, b.length, NL_VALIDATE.TRAILING)).toMatchObject({ message: 'bytes leftover after parsing attributes' });
  });

  it('nlaParse keeps the last of repeated attributes, as nla_parse does', () => {
    const b = rawAttrs([1, le32(1)], [1, le32(2)]);
    const r = nlaParse(ovsVportAttrs, b, 0, b.length);
    expect('tb' in r && r.tb[1]?.dataOffset).toBe(12);
  });

  it('a flag with a payload is ERANGE; nested attributes are validated with their own policy', () => {
    const inner = new AttrSet('inner', { f: attr(1, 'INNER_F', flag) });
    const outer = new AttrSet('outer', { n: attr(1, 'OUTER_N', { ...u32, kind: 'nested', policy: { type: 'NESTED', nested: inner } }) });
    const bad = rawAttrs([1, [5, 0, 1, 0, 9, 0, 0, 0]]);
    expect(validate(outer, bad, 0, bad.length)).toMatchObject({ errno: Errno.ERANGE, offset: 4 });
    const ok = rawAttrs([1, [4, 0, 1, 0]]);
    expect(validate(outer, ok, 0, ok.length)).toBeNull();
  });

  it('NL_VALIDATE_NESTED requires NLA_F_NESTED on nests', () => {
    const b = rawAttrs([4, []]);
    expect(validate(ovsVportAttrs, b, 0, b.length, NL_VALIDATE.NESTED)).toMatchObject({ message: 'NLA_F_NESTED is missing' });
    const flagged = rawAttrs([4 | NLA_F_NESTED, []]);
    expect(validate(ovsVportAttrs, flagged, 0, flagged.length, NL_VALIDATE.NESTED)).toBeNull();
  });

  it('required attributes (a codec-level policy field) give EINVAL with the missing type', () => {
    const set = new AttrSet('req', { a: attr(1, 'REQ_A', u32, { required: true }), b: attr(2, 'REQ_B', string()) });
    const b = rawAttrs([2, str('x')]);
    expect(validate(set, b, 0, b.length)).toMatchObject({ errno: Errno.EINVAL, missingType: 1 });
  });
});

describe('policyDump (NLMSGERR_ATTR_POLICY contents)', () => {
  it('describes the vport name policy exactly as the golden extack: MAX_LENGTH 15 then TYPE NUL_STRING', () => {
    const dump = policyDump(ovsVportAttrs.policies[3]!)!;
    const w = new Writer();
    for (const a of dump) {
      w.ensure(8);
      w.dv.setUint16(w.pos, 8, true);
      w.dv.setUint16(w.pos + 2, a.type, true);
      w.dv.setUint32(w.pos + 4, Number(a.value), true);
      w.pos += 8;
    }
    expect(w.take()).toEqual(hexToBytes('080007000f000000080001000c000000'));
  });

  it('gives the value range of integer policies and nothing for NLA_UNSPEC', () => {
    expect(policyDump({ type: 'U32', min: 0, max: 4096 })).toEqual([
      { type: 4, width: 'u64', value: 0n },
      { type: 5, width: 'u64', value: 4096n },
      { type: 1, width: 'u32', value: BigInt(NL_ATTR_TYPE.U32) },
    ]);
    expect(policyDump({ type: 'UNSPEC', len: 64 })).toBeUndefined();
  });
});
