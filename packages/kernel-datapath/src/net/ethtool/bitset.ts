/**
 * ethtool bitsets (net/ethtool/bitset.c), NETDEV_FEATURE_COUNT bits wide for
 * features: written compact (value/mask words) or verbose (named bits), read
 * back from either form as ethnl_parse_bitset() reads them.
 */
import {
  ETHTOOL_A_BITSET,
  ETHTOOL_A_BITSET_BIT,
  ETHTOOL_LINK_MODE_MASK_NBITS,
  Errno,
  type EthtoolBitset,
  type EthtoolBitsetBit,
  NETDEV_FEATURE_COUNT,
  NETDEV_FEATURE_NAMES,
  NLA_F_NESTED,
  NL_VALIDATE,
  type ParsedAttr,
  ethtoolBitsetAttrs,
  ethtoolBitsetBitAttrs,
  nlaForEachNested,
  nlaGetU32,
  nlaParseNested,
  nlaStrscpy,
} from '@ovs/genl-codec';
import { ALL_FEATURES, featureMask } from '../../include/linux/netdev_features.js';
import { type ExtAck, errMsg, nlaFailure } from '../netlink/extack.js';
import type { Bytes } from './netlink.js';

/** ethnl_put_bitset(): value/mask words when compact, else the bits of the mask (of the value without one), named. */
export function putBitset(value: bigint, mask: bigint | undefined, compact: boolean): EthtoolBitset {
  const list = mask === undefined ? { nomask: true as const } : {};
  if (compact) return { ...list, size: NETDEV_FEATURE_COUNT, value: words(value), ...(mask === undefined ? {} : { mask: words(mask) }) };
  const bits: EthtoolBitsetBit[] = [];
  for (let i = 0; i < NETDEV_FEATURE_COUNT; i++) {
    if (!testBit(mask ?? value, i)) continue;
    const bit: EthtoolBitsetBit = { index: i, name: NETDEV_FEATURE_NAMES[i]! };
    if (mask !== undefined && testBit(value, i)) bit.value = true;
    bits.push(bit);
  }
  return { ...list, size: NETDEV_FEATURE_COUNT, bits };
}

/** ethnl_put_bitset() of the link modes: none supported, none advertised (value and mask empty). */
export function putLinkModes(compact: boolean): EthtoolBitset {
  const n = ETHTOOL_LINK_MODE_MASK_NBITS;
  if (compact) return { size: n, value: new Array<number>(Math.ceil(n / 32)).fill(0), mask: new Array<number>(Math.ceil(n / 32)).fill(0) };
  return { size: n, bits: [] };
}

function words(v: bigint): number[] {
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

function testBit(v: bigint, i: number): boolean {
  return ((v >> BigInt(i)) & 1n) !== 0n;
}

/**
 * ethnl_parse_bitset(): the value and mask a bitset nest asks for, or the
 * kernel's complaint. Compact: SIZE, VALUE and MASK words (MASK all ones with
 * NOMASK). Verbose: each member of BITS, whatever its type, a bit by index or
 * name; with NOMASK the listed bits are set and every other one cleared.
 */
export function parseBitset(b: Bytes, attr: ParsedAttr, extack: ExtAck): { value: bigint; mask: bigint } | number {
  const r = nlaParseNested(ethtoolBitsetAttrs, attr, NL_VALIDATE.STRICT);
  if ('failure' in r) return nlaFailure(extack, r.failure);
  const tb = r.tb;
  const noMask = tb[ETHTOOL_A_BITSET.NOMASK] !== undefined;
  const bitsAttr = tb[ETHTOOL_A_BITSET.BITS];
  const valueAttr = tb[ETHTOOL_A_BITSET.VALUE];
  const maskAttr = tb[ETHTOOL_A_BITSET.MASK];

  if (bitsAttr === undefined) {
    const bad = compactSanityChecks(b, attr, tb, extack);
    if (bad) return bad;
    const changeBits = Math.min(nlaGetU32(tb[ETHTOOL_A_BITSET.SIZE]!), NETDEV_FEATURE_COUNT);
    const low = (1n << BigInt(changeBits)) - 1n;
    return { value: readWords(b, valueAttr!) & low, mask: noMask ? ALL_FEATURES : readWords(b, maskAttr!) & low };
  }
  if (valueAttr) return errMsg(extack, Errno.EINVAL, 'value only allowed in compact bitset', valueAttr);
  if (maskAttr) return errMsg(extack, Errno.EINVAL, 'mask only allowed in compact bitset', maskAttr);

  let value = 0n;
  let mask = noMask ? ALL_FEATURES : 0n;
  // nla_for_each_nested(): members while they fit, each parsed as a bit.
  for (const a of nlaForEachNested(bitsAttr)) {
    const bit = parseBit(a, noMask, extack);
    if (typeof bit === 'number') return bit;
    if (bit.value) value |= featureMask(bit.index);
    if (!noMask) mask |= featureMask(bit.index);
  }
  return { value, mask };
}

/** ethnl_parse_bit(): one bit by INDEX (a NAME given too must agree) or by NAME. */
function parseBit(bitAttr: ParsedAttr, noMask: boolean, extack: ExtAck): { index: number; value: boolean } | number {
  // nla_parse_nested(): the nest flag, then strict validation with bit_policy.
  if (!(bitAttr.rawType & NLA_F_NESTED)) return errMsg(extack, Errno.EINVAL, 'NLA_F_NESTED is missing', bitAttr);
  const r = nlaParseNested(ethtoolBitsetBitAttrs, bitAttr, NL_VALIDATE.STRICT);
  if ('failure' in r) return nlaFailure(extack, r.failure);
  const indexAttr = r.tb[ETHTOOL_A_BITSET_BIT.INDEX];
  const nameAttr = r.tb[ETHTOOL_A_BITSET_BIT.NAME];
  let index: number;
  if (indexAttr !== undefined) {
    index = nlaGetU32(indexAttr);
    if (index >= NETDEV_FEATURE_COUNT) return errMsg(extack, Errno.EOPNOTSUPP, 'bit index too high', indexAttr);
    if (nameAttr !== undefined && nlaStrscpy(nameAttr) !== NETDEV_FEATURE_NAMES[index]) {
      return errMsg(extack, Errno.EINVAL, 'bit index and name mismatch', bitAttr);
    }
  } else if (nameAttr !== undefined) {
    // ethnl_name_to_idx(): the first bit of that name ('' is bit 2's).
    index = NETDEV_FEATURE_NAMES.indexOf(nlaStrscpy(nameAttr));
    if (index < 0) return errMsg(extack, Errno.EOPNOTSUPP, 'bit name not found', nameAttr);
  } else {
    return errMsg(extack, Errno.EINVAL, 'neither bit index nor name specified', bitAttr);
  }
  return { index, value: noMask || r.tb[ETHTOOL_A_BITSET_BIT.VALUE] !== undefined };
}

/** ethnl_compact_sanity_checks(). */
function compactSanityChecks(b: Bytes, nest: ParsedAttr, tb: Array<ParsedAttr | undefined>, extack: ExtAck): number {
  const noMask = tb[ETHTOOL_A_BITSET.NOMASK] !== undefined;
  const size = tb[ETHTOOL_A_BITSET.SIZE];
  const value = tb[ETHTOOL_A_BITSET.VALUE];
  const mask = tb[ETHTOOL_A_BITSET.MASK];
  if (noMask && mask) return errMsg(extack, Errno.EINVAL, 'mask not allowed in list bitset', mask);
  if (!size) return errMsg(extack, Errno.EINVAL, 'missing size in compact bitset', nest);
  if (!value) return errMsg(extack, Errno.EINVAL, 'missing value in compact bitset', nest);
  if (!noMask && !mask) return errMsg(extack, Errno.EINVAL, 'missing mask in compact nonlist bitset', nest);
  const attrNbits = nlaGetU32(size);
  const bytes = Math.ceil(attrNbits / 32) * 4;
  if (value.dataLength !== bytes) return errMsg(extack, Errno.EINVAL, 'bitset value length does not match size', value);
  if (mask && mask.dataLength !== bytes) return errMsg(extack, Errno.EINVAL, 'bitset mask length does not match size', mask);
  if (attrNbits <= NETDEV_FEATURE_COUNT) return 0;
  const test = noMask ? value : mask!;
  if (bitmap32NotZero(b, test, attrNbits)) {
    return errMsg(extack, Errno.EINVAL, 'cannot modify bits past kernel bitset size', test);
  }
  return 0;
}

/**
 * ethnl_bitmap32_not_zero(start = NETDEV_FEATURE_COUNT, a whole number of
 * words) as 6.1 has it: its test of the whole words is inverted (all zero,
 * or none, reads as "not zero"), so only a range ending inside a word after
 * a non-zero whole one can read as zero, by that word's bits.
 */
function bitmap32NotZero(b: Bytes, a: ParsedAttr, end: number): boolean {
  const word = (i: number) => b.dv.getUint32(a.dataOffset + i * 4, true);
  const endWord = end >>> 5;
  let allZero = true;
  for (let i = NETDEV_FEATURE_COUNT / 32; i < endWord; i++) if (word(i) !== 0) allZero = false;
  if (allZero || end % 32 === 0) return true;
  return (word(endWord) & (0xffffffff >>> (32 - (end % 32)))) !== 0;
}

function readWords(b: Bytes, a: ParsedAttr): bigint {
  let v = 0n;
  for (let i = 0; i < Math.min(2, a.dataLength / 4); i++) v |= BigInt(b.dv.getUint32(a.dataOffset + i * 4, true)) << BigInt(32 * i);
  return v;
}
