/**
 * The ethtool generic netlink family (Linux 6.1, net/ethtool/netlink.c with
 * the handlers of features.c and linkmodes.c): request headers,
 * ETHTOOL_MSG_FEATURES_GET / _SET with their replies and
 * ETHTOOL_MSG_FEATURES_NTF, ETHTOOL_MSG_LINKMODES_GET, and dumps. The
 * features themselves are include/linux/netdev_features.ts and net/core/dev.ts
 * (__netdev_update_features), bitsets bitset.ts, link settings linkmodes.ts.
 * The family's other commands are registered, as nlctrl shows them, but
 * answer EOPNOTSUPP.
 */
import {
  ETHTOOL_A_FEATURES,
  ETHTOOL_A_HEADER,
  ETHTOOL_A_LINKMODES,
  ETHTOOL_FLAG,
  ETHTOOL_MSG,
  ETHTOOL_MSG_KERNEL,
  AttrSet,
  Errno,
  type EthtoolLinkmodesAttrs,
  GENL_FLAGS,
  GENL_HDRLEN,
  type GenlMessage,
  type RawMessage,
  NLMSG_HDRLEN,
  NLM_F,
  NL_VALIDATE,
  NetlinkProtocol,
  type NlmsgHeader,
  type ParsedAttr,
  encode,
  ethtoolFamily,
  ethtoolFeaturesAttrs,
  ethtoolHeaderAttrs,
  ethtoolLinkmodesAttrs,
  ethtoolLinkmodesPayload,
  nlaGetU32,
  nlaParse,
  nlaParseNested,
  nlaStrscpy,
} from '@ovs/genl-codec';
import type { DumpContext, GenlInfo, GenlOp, HandlerResult, KernelGenlFamily } from '../netlink/genetlink.js';
import type { Kernel } from '../../kernel.js';
import { ExtAck, errAttrMiss, errMsg } from '../netlink/extack.js';
import { ALL_FEATURES, NETIF_F_ETHTOOL_BITS, NETIF_F_NEVER_CHANGE } from '../../include/linux/netdev_features.js';
import type { NetDevice } from '../../include/linux/netdevice.js';
import { netdevUpdateFeatures } from '../core/dev.js';
import type { Netns } from '../core/net_namespace.js';
import { parseBitset, putBitset, putLinkModes } from './bitset.js';
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

/** A request's bytes and a view of them. */
export type Bytes = { bytes: Uint8Array; dv: DataView };

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
            dumpit: (c) =>
              this.defaultDump(c, featuresGetPolicy, (dev, flags, h) => this.featuresMessage(dev, ETHTOOL_MSG_KERNEL.FEATURES_GET_REPLY, flags, h)),
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
        this.message(
          ETHTOOL_MSG_KERNEL.FEATURES_SET_REPLY,
          { flags: 0, seq: info.header.seq, pid: info.sock.portId },
          {
            header: { devIndex: dev.ifindex, devName: dev.name },
            wanted: putBitset(reqWanted, wantedDiffMask, compact),
            active: putBitset(newActive, activeDiffMask, compact),
          },
        ),
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
