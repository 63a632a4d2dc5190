/**
 * Generic netlink (include/uapi/linux/genetlink.h): genlmsghdr, the nlctrl
 * family, and the registry of families a decoder knows by name and learns by
 * id (ids are assigned by the kernel at module load; never hard-code them).
 */
import { AttrSet, type AttrsOf, attrTypes, attr } from './attr-set.js';
import { binary, nestedArray, prefixed, string, u16, u32 } from './codecs.js';
import type { StructCodec } from './struct.js';
import { NLMSG } from './netlink.js';

export const GENL_ID_CTRL = NLMSG.MIN_TYPE;
export const GENL_NAMSIZ = 16;

/** Operation flags in CTRL_ATTR_OP_FLAGS. */
export const GENL_FLAGS = {
  ADMIN_PERM: 0x01,
  CMD_CAP_DO: 0x02,
  CMD_CAP_DUMP: 0x04,
  CMD_CAP_HASPOL: 0x08,
  UNS_ADMIN_PERM: 0x10,
} as const;

export const CTRL_CMD = {
  UNSPEC: 0,
  NEWFAMILY: 1,
  DELFAMILY: 2,
  GETFAMILY: 3,
  NEWOPS: 4,
  DELOPS: 5,
  GETOPS: 6,
  NEWMCAST_GRP: 7,
  DELMCAST_GRP: 8,
  GETMCAST_GRP: 9,
  GETPOLICY: 10,
} as const;

export const ctrlOpAttrs = new AttrSet('ctrl_attr_op', {
  id: attr(1, 'CTRL_ATTR_OP_ID', u32),
  flags: attr(2, 'CTRL_ATTR_OP_FLAGS', u32),
});

// The kernel writes a group's id before its name (ctrl_fill_info).
export const ctrlMcastGrpAttrs = new AttrSet('ctrl_attr_mcast_grp', {
  id: attr(2, 'CTRL_ATTR_MCAST_GRP_ID', u32),
  name: attr(1, 'CTRL_ATTR_MCAST_GRP_NAME', string({ nul: true, maxLen: GENL_NAMSIZ - 1 })),
});

/** CTRL_ATTR_*, in the order ctrl_fill_info() writes them. */
export const ctrlAttrs = new AttrSet('ctrl_attr', {
  familyName: attr(2, 'CTRL_ATTR_FAMILY_NAME', string({ nul: true, maxLen: GENL_NAMSIZ - 1 })),
  familyId: attr(1, 'CTRL_ATTR_FAMILY_ID', u16),
  version: attr(3, 'CTRL_ATTR_VERSION', u32),
  hdrsize: attr(4, 'CTRL_ATTR_HDRSIZE', u32),
  maxattr: attr(5, 'CTRL_ATTR_MAXATTR', u32),
  ops: attr(6, 'CTRL_ATTR_OPS', nestedArray(ctrlOpAttrs)),
  mcastGroups: attr(7, 'CTRL_ATTR_MCAST_GROUPS', nestedArray(ctrlMcastGrpAttrs)),
  policy: attr(8, 'CTRL_ATTR_POLICY', binary({ policy: 'NESTED' })),
  opPolicy: attr(9, 'CTRL_ATTR_OP_POLICY', binary({ policy: 'NESTED' })),
  op: attr(10, 'CTRL_ATTR_OP', u32),
});
export type CtrlAttrs = AttrsOf<typeof ctrlAttrs>;

/** Everything a codec needs to know about one generic netlink family. */
export interface GenlFamilyDef<S extends AttrSet = AttrSet> {
  /** Family name as registered (GENL_NAMSIZ bytes max), e.g. "ovs_vport". */
  readonly name: string;
  /** The version userspace sends in genlmsghdr.version. */
  readonly version: number;
  /** The family's fixed header after genlmsghdr (struct ovs_header), if any. */
  readonly userHeader?: StructCodec<{ dpIfindex: 's32' }>;
  /** Commands by name (uapi constant names). */
  readonly cmds: Readonly<Record<string, number>>;
  /**
   * The message types the kernel sends, for a family that numbers them apart
   * from requests (ethtool's ETHTOOL_MSG_*_REPLY and *_NTF); `cmds` then names
   * requests only. A message is a request when it has NLM_F_REQUEST.
   */
  readonly kernelCmds?: Readonly<Record<string, number>>;
  /**
   * For a family whose attribute numbering depends on the command (ethtool):
   * the commands `attrs` describes, requests and kernel messages apart; the
   * others' messages decode as raw ones. Absent: `attrs` describes them all.
   */
  readonly attrsCmds?: { readonly request: readonly number[]; readonly kernel: readonly number[] };
  readonly attrs: S;
  /** Multicast group names. */
  readonly mcastGroups: readonly string[];
}

export const ctrlFamily: GenlFamilyDef<typeof ctrlAttrs> = {
  name: 'nlctrl',
  version: 2,
  cmds: prefixed('CTRL_CMD_', CTRL_CMD),
  attrs: ctrlAttrs,
  mcastGroups: ['notify'],
};

/**
 * Family ids for one netlink connection. `nlctrl` is always 0x10 (GENL_ID_CTRL);
 * the others are learned from CTRL_CMD_NEWFAMILY replies (`learn`) or set by
 * hand (`set`), e.g. from `--family ovs_vport=34`.
 */
export class FamilyTable {
  // Indexed by id (a u16): a plain array lookup on the decoder's hot path.
  private readonly byIdArr: Array<GenlFamilyDef | undefined> = [];
  private readonly idByName = new Map<string, number>();
  constructor(readonly known: ReadonlyMap<string, GenlFamilyDef>) {
    this.set('nlctrl', GENL_ID_CTRL);
  }
  /** Bind a family name to an id. Unknown names get no typed decoding but keep the id. */
  set(name: string, id: number): void {
    const def = this.known.get(name);
    const old = this.idByName.get(name);
    if (old !== undefined) this.byIdArr[old] = undefined;
    this.idByName.set(name, id);
    if (def) this.byIdArr[id] = def;
  }
  byId(id: number): GenlFamilyDef | undefined {
    return this.byIdArr[id];
  }
  id(name: string): number | undefined {
    return this.idByName.get(name);
  }
  /** Learn the id from a decoded nlctrl reply's attributes. */
  learn(attrs: CtrlAttrs): void {
    if (attrs.familyName !== undefined && attrs.familyId !== undefined) this.set(attrs.familyName, attrs.familyId);
  }
}

// ---------------------------------------------------------------------------
// Attribute numbers, for code that reads attributes with nlaParse() (the kernel model)

export const CTRL_ATTR = attrTypes(ctrlAttrs, 'CTRL_ATTR_');
export const CTRL_ATTR_OP = attrTypes(ctrlOpAttrs, 'CTRL_ATTR_OP_');
export const CTRL_ATTR_MCAST_GRP = attrTypes(ctrlMcastGrpAttrs, 'CTRL_ATTR_MCAST_GRP_');
