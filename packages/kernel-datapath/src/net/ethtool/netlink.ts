/**
 * Network device features and the ethtool generic netlink family that shows
 * and changes them (Linux 6.1): each kind of device's features as its driver
 * registers them, __netdev_update_features() with netdev_fix_features()
 * (net/core/dev.c), and ETHTOOL_MSG_FEATURES_GET / _SET with their replies
 * and ETHTOOL_MSG_FEATURES_NTF (net/ethtool/netlink.c, features.c, bitset.c);
 * ETHTOOL_MSG_LINKMODES_GET (linkmodes.c) with each kind's link settings.
 * The family's other commands are registered, as nlctrl shows them, but
 * answer EOPNOTSUPP.
 */
import {
  ETHTOOL_A_BITSET,
  ETHTOOL_A_BITSET_BIT,
  ETHTOOL_A_FEATURES,
  ETHTOOL_A_HEADER,
  ETHTOOL_A_LINKMODES,
  ETHTOOL_FLAG,
  ETHTOOL_LINK_MODE_MASK_NBITS,
  ETHTOOL_MSG,
  ETHTOOL_MSG_KERNEL,
  AttrSet,
  Errno,
  type EthtoolBitset,
  type EthtoolBitsetBit,
  type EthtoolLinkmodesAttrs,
  GENL_FLAGS,
  GENL_HDRLEN,
  type GenlMessage,
  type RawMessage,
  NETDEV_FEATURE_COUNT,
  NETDEV_FEATURE_NAMES,
  NLA_F_NESTED,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkProtocol,
  type NlmsgHeader,
  type ParsedAttr,
  encode,
  ethtoolBitsetAttrs,
  ethtoolBitsetBitAttrs,
  ethtoolFamily,
  ethtoolFeaturesAttrs,
  ethtoolHeaderAttrs,
  ethtoolLinkmodesAttrs,
  ethtoolLinkmodesPayload,
  nlaForEachNested,
  nlaGetU32,
  nlaParse,
  nlaParseNested,
  nlaStrscpy,
} from '@ovs/genl-codec';
import type { DumpContext, GenlInfo, GenlOp, HandlerResult, KernelGenlFamily } from '../netlink/genetlink.js';
import type { Kernel } from '../../kernel.js';
import { ExtAck, errAttrMiss, errMsg, nlaFailure } from '../netlink/extack.js';
import { ALL_FEATURES, NETIF_F_ETHTOOL_BITS, NETIF_F_NEVER_CHANGE, featureMask } from '../../include/linux/netdev_features.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import { netdevUpdateFeatures } from '../core/dev.js';
import type { Netns } from '../core/net_namespace.js';
import { linkKsettings } from './linkmodes.js';

// ---------------------------------------------------------------------------
// The ethtool family

/**
 * The family's id and its "monitor" group's id, as on the captures' kernel:
 * ethtool registers at boot (subsys_initcall), long before openvswitch takes
 * 32 and up, and with its group before theirs (9 and up).
 */
export const ETHTOOL_FAMILY_ID = 20;
export const ETHTOOL_MCGRP_MONITOR_ID = 4;

/** ETHTOOL_FLAGS_BASIC: the header flags FEATURES_GET / _SET accept (NLA_POLICY_MASK). */
const ETHTOOL_FLAGS_BASIC = ETHTOOL_FLAG.COMPACT_BITSETS | ETHTOOL_FLAG.OMIT_REPLY;


/** ethnl_features_get_policy: the header only. */
const featuresGetPolicy = new AttrSet('ethnl_features_get_policy', { header: ethtoolFeaturesAttrs.defs.header });

/** ethnl_linkmodes_get_policy: the header only. */
const linkmodesGetPolicy = new AttrSet('ethnl_linkmodes_get_policy', { header: ethtoolLinkmodesAttrs.defs.header });

type Bytes = { bytes: Uint8Array; dv: DataView };

/** struct ethnl_req_info: the device and flags of a request header. */
interface ReqInfo {
  dev: NetDevice | undefined;
  flags: number;
}

export class Ethtool {
  readonly family: KernelGenlFamily;
  /** ethnl_bcast_seq: the sequence number of the last notification, kernel-wide. */
  private bcastSeq = 0;

  constructor(kernel: Kernel) {
    this.family = kernel.genl.register(
      {
        def: ethtoolFamily,
        maxattr: 0,
        policy: undefined,
        hasPolicy: true,
        ops: this.ops(),
        mcgrps: [...ethtoolFamily.mcastGroups],
        id: ETHTOOL_FAMILY_ID,
      },
      [ETHTOOL_MCGRP_MONITOR_ID],
    );
    // ethnl_netdev_event(): NETDEV_FEAT_CHANGE becomes ETHTOOL_MSG_FEATURES_NTF to the namespace's monitors.
    kernel.onNetns((ns) =>
      ns.featureListeners.push((dev) => {
        const msg = this.featuresMessage(dev, ETHTOOL_MSG_KERNEL.FEATURES_NTF, ETHTOOL_FLAG.COMPACT_BITSETS, { flags: 0, seq: ++this.bcastSeq, pid: 0 });
        kernel.multicast(NetlinkProtocol.NETLINK_GENERIC, ns, ETHTOOL_MCGRP_MONITOR_ID, encode(msg));
      }),
    );
  }

  /**
   * ethtool_genl_ops: every command, with 6.1's flags (SET and ACT need
   * CAP_NET_ADMIN, and so do WOL_GET and MODULE_EEPROM_GET; GETs also dump).
   */
  private ops(): GenlOp[] {
    const unmodelled = (): number => -Errno.EOPNOTSUPP;
    return Object.entries(ETHTOOL_MSG).map(([name, cmd]): GenlOp => {
      const get = name.endsWith('_GET');
      const admin = !get || cmd === ETHTOOL_MSG.WOL_GET || cmd === ETHTOOL_MSG.MODULE_EEPROM_GET;
      const op: GenlOp = {
        cmd,
        flags: admin ? GENL_FLAGS.UNS_ADMIN_PERM : 0,
        liberal: false,
        noDumpValidate: false,
        doit: unmodelled,
        ...(get ? { dumpit: unmodelled } : {}),
      };
      switch (cmd) {
        case ETHTOOL_MSG.FEATURES_GET:
          return {
            ...op,
            policy: featuresGetPolicy,
            doitName: 'ethnl_default_doit',
            dumpitName: 'ethnl_default_dumpit',
            doit: (i) => this.featuresGet(i),
            start: (c) => this.dumpStart(c, featuresGetPolicy),
            dumpit: (c) => this.defaultDump(c, featuresGetPolicy, (dev, flags, h) => this.featuresMessage(dev, ETHTOOL_MSG_KERNEL.FEATURES_GET_REPLY, flags, h)),
          };
        case ETHTOOL_MSG.LINKMODES_GET:
          return {
            ...op,
            policy: linkmodesGetPolicy,
            doitName: 'ethnl_default_doit',
            dumpitName: 'ethnl_default_dumpit',
            doit: (i) => this.linkmodesGet(i),
            start: (c) => this.dumpStart(c, linkmodesGetPolicy),
            dumpit: (c) => this.defaultDump(c, linkmodesGetPolicy, (dev, flags, h) => this.linkmodesMessage(dev, flags, h)),
          };
        case ETHTOOL_MSG.FEATURES_SET:
          return { ...op, policy: ethtoolFeaturesAttrs, doit: (i) => this.featuresSet(i), doitName: 'ethnl_set_features' };
        default:
          return op;
      }
    });
  }

  // -------------------------------------------------------------------------
  // ETHTOOL_MSG_FEATURES_GET

  /** ethnl_default_doit(). */
  private featuresGet(info: GenlInfo): HandlerResult {
    const reserved = reservedFlags(info.tb[ETHTOOL_A_FEATURES.HEADER], info.extack);
    if (reserved) return reserved;
    // GENL_REQ_ATTR_CHECK()
    const header = info.tb[ETHTOOL_A_FEATURES.HEADER];
    if (header === undefined) return errAttrMiss(info.extack, ETHTOOL_A_FEATURES.HEADER);
    const req = parseHeaderDevGet(header, info.sock.netns, true, info.extack);
    if (typeof req === 'number') return req;
    const reply = this.featuresMessage(req.dev!, ETHTOOL_MSG_KERNEL.FEATURES_GET_REPLY, req.flags, { flags: 0, seq: info.header.seq, pid: info.sock.portId });
    info.reply(reply);
    return 0;
  }

  /**
   * ethnl_default_start(): the header must be there and name no missing
   * device (which the dump then ignores). Its errors carry no extack.
   */
  private dumpStart(ctx: Omit<DumpContext, 'put'>, policy: AttrSet): HandlerResult {
    const at = requestAttrs(ctx, policy);
    const header = at.tb[ETHTOOL_A_FEATURES.HEADER];
    const reserved = reservedFlags(header, ctx.extack);
    if (reserved) return reserved;
    if (header === undefined) return -Errno.EINVAL;
    const req = parseHeaderDevGet(header, ctx.sock.netns, false, new ExtAck());
    return typeof req === 'number' ? req : 0;
  }

  /**
   * ethnl_default_dumpit(): every device by ifindex hash bucket, newest first
   * in each, resuming at args[0] / args[1]; 0 once all are in, so that
   * NLMSG_DONE shares the last datagram. A device the command does not
   * apply to (`build` gives undefined: EOPNOTSUPP) is skipped.
   */
  private defaultDump(
    ctx: DumpContext,
    policy: AttrSet,
    build: (dev: NetDevice, flags: number, h: Omit<NlmsgHeader, 'len' | 'type'>) => GenlMessage | RawMessage | undefined,
  ): number {
    const at = requestAttrs(ctx, policy);
    const flags = headerFlags(at.tb[ETHTOOL_A_FEATURES.HEADER]);
    const buckets = new Map<number, NetDevice[]>();
    for (const dev of ctx.sock.netns.devices) {
      const list = buckets.get(dev.ifindex & 0xff);
      if (list) list.push(dev);
      else buckets.set(dev.ifindex & 0xff, [dev]);
    }
    let added = 0;
    for (let h = ctx.args[0] ?? 0; h < 256; h++) {
      const list = (buckets.get(h) ?? []).sort((a, b) => b.ifindex - a.ifindex);
      for (let idx = ctx.args[1] ?? 0; idx < list.length; idx++) {
        const msg = build(list[idx]!, flags, { flags: NLM_F.MULTI, seq: ctx.header.seq, pid: ctx.sock.portId });
        if (msg === undefined) continue;
        if (!ctx.put(msg)) {
          ctx.args[0] = h;
          ctx.args[1] = idx;
          return added;
        }
        added++;
      }
      ctx.args[1] = 0;
    }
    ctx.args[0] = 256;
    return 0;
  }

  /** features_prepare_data() + features_fill_reply(), after the reply header (ethnl_fill_reply_header()). */
  private featuresMessage(dev: NetDevice, cmd: number, flags: number, h: Omit<NlmsgHeader, 'len' | 'type'>): GenlMessage {
    const compact = (flags & ETHTOOL_FLAG.COMPACT_BITSETS) !== 0;
    return this.message(cmd, h, {
      header: { devIndex: dev.ifindex, devName: dev.name },
      hw: putBitset(dev.hwFeatures, ALL_FEATURES, compact),
      wanted: putBitset(dev.wantedFeatures, undefined, compact),
      active: putBitset(dev.features, undefined, compact),
      nochange: putBitset(NETIF_F_NEVER_CHANGE, undefined, compact),
    });
  }

  // -------------------------------------------------------------------------
  // ETHTOOL_MSG_LINKMODES_GET

  /** ethnl_default_doit() with linkmodes_prepare_data(): EOPNOTSUPP for a device without link settings. */
  private linkmodesGet(info: GenlInfo): HandlerResult {
    const header = info.tb[ETHTOOL_A_LINKMODES.HEADER];
    const reserved = reservedFlags(header, info.extack);
    if (reserved) return reserved;
    if (header === undefined) return errAttrMiss(info.extack, ETHTOOL_A_LINKMODES.HEADER);
    const req = parseHeaderDevGet(header, info.sock.netns, true, info.extack);
    if (typeof req === 'number') return req;
    const reply = this.linkmodesMessage(req.dev!, req.flags, { flags: 0, seq: info.header.seq, pid: info.sock.portId });
    if (reply === undefined) return errMsg(info.extack, Errno.EOPNOTSUPP, 'failed to retrieve link settings');
    info.reply(reply);
    return 0;
  }

  /**
   * linkmodes_fill_reply(): AUTONEG, OURS (advertised, masked by supported),
   * PEER only when the partner advertised something, SPEED, DUPLEX, LANES
   * only when known, the master/slave pair only when supported, RATE_MATCHING.
   */
  private linkmodesMessage(dev: NetDevice, flags: number, h: Omit<NlmsgHeader, 'len' | 'type'>): RawMessage | undefined {
    const ks = linkKsettings(dev);
    if (ks === undefined) return undefined;
    const compact = (flags & ETHTOOL_FLAG.COMPACT_BITSETS) !== 0;
    const attrs: EthtoolLinkmodesAttrs = {
      header: { devIndex: dev.ifindex, devName: dev.name },
      autoneg: ks.autoneg,
      ours: putLinkModes(compact),
      speed: ks.speed,
      duplex: ks.duplex,
      rateMatching: 0, // RATE_MATCH_NONE
    };
    return {
      kind: 'raw',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: this.family.id, ...h },
      payload: ethtoolLinkmodesPayload(ETHTOOL_MSG_KERNEL.LINKMODES_GET_REPLY, attrs),
    };
  }

  // -------------------------------------------------------------------------
  // ETHTOOL_MSG_FEATURES_SET

  /** ethnl_set_features(). */
  private featuresSet(info: GenlInfo): HandlerResult {
    const header = info.tb[ETHTOOL_A_FEATURES.HEADER];
    const reserved = reservedFlags(header, info.extack);
    if (reserved) return reserved;
    const wantedAttr = info.tb[ETHTOOL_A_FEATURES.WANTED];
    if (wantedAttr === undefined) return -Errno.EINVAL;
    if (header === undefined) return errMsg(info.extack, Errno.EINVAL, 'request header missing');
    const req = parseHeaderDevGet(header, info.sock.netns, true, info.extack);
    if (typeof req === 'number') return req;
    const dev = req.dev!;
    const oldActive = dev.features;
    const oldWanted = dev.wantedFeatures;
    const parsed = parseBitset(info, wantedAttr, info.extack);
    if (typeof parsed === 'number') return parsed;
    if (parsed.mask & ~NETIF_F_ETHTOOL_BITS) return errMsg(info.extack, Errno.EINVAL, 'attempt to change non-ethtool features');

    // The requested bits, the others as they were.
    let reqWanted = (parsed.value & parsed.mask) | (oldWanted & ~parsed.mask);
    if (reqWanted !== oldWanted) {
      dev.wantedFeatures = (dev.wantedFeatures & ~dev.hwFeatures) | (reqWanted & dev.hwFeatures);
      netdevUpdateFeatures(dev);
    }
    let newActive = dev.features;
    const mod = newActive !== oldActive;

    if (!(req.flags & ETHTOOL_FLAG.OMIT_REPLY)) {
      // The reply tells what differs: requested bits that did not come out as asked, and what changed.
      const wantedDiffMask = (reqWanted ^ newActive) & parsed.mask;
      const activeDiffMask = oldActive ^ newActive;
      reqWanted &= wantedDiffMask;
      newActive &= activeDiffMask;
      const compact = (req.flags & ETHTOOL_FLAG.COMPACT_BITSETS) !== 0;
      info.reply(
        this.message(ETHTOOL_MSG_KERNEL.FEATURES_SET_REPLY, { flags: 0, seq: info.header.seq, pid: info.sock.portId }, {
          header: { devIndex: dev.ifindex, devName: dev.name },
          wanted: putBitset(reqWanted, wantedDiffMask, compact),
          active: putBitset(newActive, activeDiffMask, compact),
        }),
      );
    }
    // netdev_features_change(): NETDEV_FEAT_CHANGE.
    if (mod) dev.netns.featuresChanged(dev);
    return 0;
  }

  private message(cmd: number, h: Omit<NlmsgHeader, 'len' | 'type'>, attrs: GenlMessage<typeof ethtoolFamily>['attrs']): GenlMessage {
    return {
      kind: 'genl',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: this.family.id, ...h },
      family: ethtoolFamily,
      cmd,
      version: this.family.version,
      reserved: 0,
      attrs,
    } as GenlMessage;
  }
}

// ---------------------------------------------------------------------------
// Request headers (net/ethtool/netlink.c)

/** A dump's request, parsed again from its copy (the genl layer validated it already). */
function requestAttrs(ctx: { bytes: Uint8Array }, policy: AttrSet): Bytes & { tb: Array<ParsedAttr | undefined> } {
  const dv = new DataView(ctx.bytes.buffer, ctx.bytes.byteOffset, ctx.bytes.byteLength);
  const r = nlaParse(policy, ctx.bytes, NLMSG_HDRLEN + GENL_HDRLEN, ctx.bytes.length, NL_VALIDATE.LIBERAL);
  return { bytes: ctx.bytes, dv, tb: 'tb' in r ? r.tb : [] };
}

/** The header's attributes (validated with ethnl_header_policy by the genl layer). */
function headerAttrs(header: ParsedAttr): Array<ParsedAttr | undefined> {
  const r = nlaParseNested(ethtoolHeaderAttrs, header, NL_VALIDATE.LIBERAL);
  return 'tb' in r ? r.tb : [];
}

function headerFlags(header: ParsedAttr | undefined): number {
  const flags = header && headerAttrs(header)[ETHTOOL_A_HEADER.FLAGS];
  return flags ? nlaGetU32(flags) : 0;
}

/**
 * The NLA_POLICY_MASK of ETHTOOL_A_HEADER_FLAGS, which the codec's policies
 * cannot say: checked right after the genl layer's validation, where the
 * kernel checks it in attribute order (so of two faults in one request, the
 * kernel may name this one and the model the other).
 */
function reservedFlags(header: ParsedAttr | undefined, extack: ExtAck): number {
  const flags = header && headerAttrs(header)[ETHTOOL_A_HEADER.FLAGS];
  if (flags === undefined || !(nlaGetU32(flags) & ~ETHTOOL_FLAGS_BASIC)) return 0;
  return errMsg(extack, Errno.EINVAL, 'reserved bit set', flags);
}

/** ethnl_parse_header_dev_get(): the device by DEV_INDEX (and DEV_NAME, which must agree) or by DEV_NAME. */
function parseHeaderDevGet(header: ParsedAttr, netns: Netns, requireDev: boolean, extack: ExtAck): ReqInfo | number {
  const tb = headerAttrs(header);
  const index = tb[ETHTOOL_A_HEADER.DEV_INDEX];
  const name = tb[ETHTOOL_A_HEADER.DEV_NAME];
  let dev: NetDevice | undefined;
  if (index !== undefined) {
    dev = netns.byIfindex(nlaGetU32(index));
    if (dev === undefined) return errMsg(extack, Errno.ENODEV, 'no device matches ifindex', index);
    if (name !== undefined && nlaStrscpy(name) !== dev.name) {
      return errMsg(extack, Errno.ENODEV, 'ifindex and name do not match', header);
    }
  } else if (name !== undefined) {
    dev = netns.byIfname(nlaStrscpy(name));
    if (dev === undefined) return errMsg(extack, Errno.ENODEV, 'no device matches name', name);
  } else if (requireDev) {
    return errMsg(extack, Errno.EINVAL, 'neither ifindex nor name specified', header);
  }
  return { dev, flags: headerFlags(header) };
}

// ---------------------------------------------------------------------------
// Bitsets (net/ethtool/bitset.c), NETDEV_FEATURE_COUNT bits wide

/** ethnl_put_bitset(): value/mask words when compact, else the bits of the mask (of the value without one), named. */
function putBitset(value: bigint, mask: bigint | undefined, compact: boolean): EthtoolBitset {
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
function putLinkModes(compact: boolean): EthtoolBitset {
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
function parseBitset(b: Bytes, attr: ParsedAttr, extack: ExtAck): { value: bigint; mask: bigint } | number {
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
