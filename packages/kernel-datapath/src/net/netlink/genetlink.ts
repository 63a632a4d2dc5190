/**
 * Generic netlink inside the model (net/netlink/genetlink.c): registered
 * families with their ids, ops and multicast groups, request dispatch with
 * permission checks and policy parsing, and the nlctrl family itself.
 */
import {
  AttrSet,
  type AttrTable,
  CTRL_CMD,
  Errno,
  GENL_FLAGS,
  GENL_HDRLEN,
  NetlinkProtocol,
  align4,
  encode,
  errnoName,
  GENL_ID_CTRL,
  type GenlFamilyDef,
  type GenlMessage,
  type RawMessage,
  NLM_F,
  NL_VALIDATE,
  type NlmsgHeader,
  type ValidationFailure,
  CTRL_ATTR,
  ctrlAttrs,
  nlaGetU16,
  nlaStrscpy,
  ctrlFamily,
  nlaParse,
} from '@ovs/genl-codec';
import type { DUMP_STARTED, Kernel, Request } from '../../kernel.js';
import type { KernelSocket } from './af_netlink.js';
import { type ExtAck, nlaFailure } from './extack.js';

/** What a doit handler gets (struct genl_info). */
export interface GenlInfo {
  sock: KernelSocket;
  header: NlmsgHeader;
  cmd: number;
  /** struct ovs_header.dp_ifindex for families that have it. */
  dpIfindex: number;
  /** The request's bytes (the whole message) and the parsed attributes (tb[]). */
  bytes: Uint8Array;
  dv: DataView;
  tb: AttrTable;
  family: KernelGenlFamily;
  /** info->extack: what the handler says about its failure. */
  extack: ExtAck;
  /** genlmsg_reply(): unicast to the requester. */
  /** A genl message, or a raw one for a command whose attributes the codec leaves raw (ethtool's LINKMODES). */
  reply(msg: GenlMessage | RawMessage): void;
  /**
   * genl_notify(): multicast to the group's members in the requester's
   * namespace and, if the request had NLM_F_ECHO, a copy to the requester.
   */
  notify(msg: GenlMessage, group: number): void;
}

/** A dump in progress (struct netlink_callback): args persist between chunks, as cb->args. */
export interface DumpContext {
  sock: KernelSocket;
  header: NlmsgHeader;
  dpIfindex: number;
  bytes: Uint8Array;
  args: number[];
  family: KernelGenlFamily;
  /** cb->extack (a dump's start can fail the request). */
  extack: ExtAck;
  /** Append a message to the current chunk; false when it does not fit (the handler stops and returns). */
  put(msg: GenlMessage | RawMessage): boolean;
}

/** A handler's answer: 0 for success, or a negative errno (with what it says about it in extack). */
export type HandlerResult = number;

export interface GenlOp {
  cmd: number;
  /** GENL_ADMIN_PERM / GENL_UNS_ADMIN_PERM as declared; DO/DUMP/HASPOL are added when reported. */
  flags: number;
  doit?: (info: GenlInfo) => HandlerResult;
  /** The kernel functions behind doit and dumpit, as a trace names them (e.g. ovs_vport_cmd_new). */
  doitName?: string;
  dumpitName?: string;
  /** Returns > 0 while more remains (skb->len), 0 when done, or a negative errno. */
  dumpit?: (ctx: DumpContext) => number;
  /** genl_ops.start: checks a dump request before the dump starts; an error answers the request. */
  start?: (ctx: Omit<DumpContext, 'put'>) => HandlerResult;
  /** genl_ops.policy: the op's own policy, in a family without a family-wide one (ethtool). */
  policy?: AttrSet;
  /** GENL_DONT_VALIDATE_STRICT: liberal attribute parsing. */
  liberal: boolean;
  /** GENL_DONT_VALIDATE_DUMP: dump requests are not parsed. */
  noDumpValidate: boolean;
}

/** A family as registered with genl_register_family(). */
export interface KernelGenlFamily {
  readonly def: GenlFamilyDef;
  readonly id: number;
  readonly version: number;
  readonly hdrsize: number;
  readonly maxattr: number;
  /** Policy for parsing requests; absent for nlctrl, whose ops carry their own. */
  readonly policy: AttrSet | undefined;
  readonly ops: readonly GenlOp[];
  /** Multicast group names and their global ids. */
  readonly mcgrps: ReadonlyArray<{ name: string; id: number }>;
  /** Whether the family has a family-level policy (every op then reports GENL_CMD_CAP_HASPOL). */
  readonly hasPolicy: boolean;
  readonly netnsok: boolean;
}

export interface FamilyRegistration {
  def: GenlFamilyDef;
  maxattr: number;
  policy: AttrSet | undefined;
  ops: GenlOp[];
  mcgrps: string[];
  hasPolicy?: boolean;
  id?: number;
}

/** The flags CTRL_ATTR_OP_FLAGS reports for an op (ctrl_fill_info / genl_get_cmd_both). */
export function reportedOpFlags(family: KernelGenlFamily, op: GenlOp): number {
  let f = op.flags;
  if (op.doit) f |= GENL_FLAGS.CMD_CAP_DO;
  if (op.dumpit) f |= GENL_FLAGS.CMD_CAP_DUMP;
  if (family.hasPolicy) f |= GENL_FLAGS.CMD_CAP_HASPOL;
  return f;
}

export class GenlRegistry {
  private readonly byId = new Map<number, KernelGenlFamily>();
  private readonly byName = new Map<string, KernelGenlFamily>();
  private nextId: number;
  private nextGroup: number;

  constructor(opts: { firstFamilyId: number; firstMcastGroup: number }) {
    this.nextId = opts.firstFamilyId;
    this.nextGroup = opts.firstMcastGroup;
  }

  get families(): Iterable<KernelGenlFamily> {
    return this.byId.values();
  }

  register(r: FamilyRegistration, fixedGroupIds?: number[]): KernelGenlFamily {
    // Dynamic ids and groups skip those already taken (idr_alloc_cyclic(), the mc_groups bitmap).
    while (this.byId.has(this.nextId)) this.nextId++;
    const id = r.id ?? this.nextId++;
    const taken = new Set([...this.byId.values()].flatMap((f) => f.mcgrps.map((g) => g.id)));
    const groupId = (): number => {
      while (taken.has(this.nextGroup)) this.nextGroup++;
      return this.nextGroup++;
    };
    const family: KernelGenlFamily = {
      def: r.def,
      id,
      version: r.def.version,
      hdrsize: r.def.userHeader ? 4 : 0,
      maxattr: r.maxattr,
      policy: r.policy,
      ops: r.ops,
      mcgrps: r.mcgrps.map((name, i) => ({ name, id: fixedGroupIds?.[i] ?? groupId() })),
      hasPolicy: r.hasPolicy ?? r.policy !== undefined,
      netnsok: true,
    };
    this.byId.set(id, family);
    this.byName.set(r.def.name, family);
    return family;
  }

  get(id: number): KernelGenlFamily | undefined {
    return this.byId.get(id);
  }

  find(name: string): KernelGenlFamily | undefined {
    return this.byName.get(name);
  }
}

/** Parse a doit request's attributes the way genl_family_rcv_msg_attrs_parse does. */
export function parseRequest(op: GenlOp, policy: AttrSet, bytes: Uint8Array, hdrlen: number): { tb: AttrTable } | { failure: ValidationFailure } {
  const validate = op.liberal ? NL_VALIDATE.LIBERAL : NL_VALIDATE.STRICT;
  return nlaParse(policy, bytes, 16 + hdrlen, bytes.length, validate);
}

/** ctrl_policy_family: what CTRL_CMD_GETFAMILY accepts (maxattr CTRL_ATTR_FAMILY_NAME). */
export const ctrlPolicyFamily = new AttrSet('ctrl_policy_family', {
  familyId: ctrlAttrs.defs.familyId,
  familyName: ctrlAttrs.defs.familyName,
});

/** The nlctrl ops: GETFAMILY (do and dump) and GETPOLICY (dump), with their own policies. */
export function nlctrlRegistration(
  registry: GenlRegistry,
  build: (f: KernelGenlFamily, sock: KernelSocket, seq: number, flags: number) => GenlMessage,
): FamilyRegistration {
  const getfamily: GenlOp = {
    cmd: CTRL_CMD.GETFAMILY,
    flags: 0,
    doitName: 'ctrl_getfamily',
    dumpitName: 'ctrl_dumpfamily',
    liberal: true,
    noDumpValidate: true,
    doit(info) {
      // ctrl_getfamily(): by id, else by name; neither is EINVAL; not found is ENOENT.
      let res: KernelGenlFamily | undefined;
      let err: number = -Errno.EINVAL;
      const id = info.tb[CTRL_ATTR.FAMILY_ID];
      if (id !== undefined) {
        res = registry.get(nlaGetU16(id));
        err = -Errno.ENOENT;
      }
      const name = info.tb[CTRL_ATTR.FAMILY_NAME];
      if (name !== undefined) {
        res = registry.find(nlaStrscpy(name));
        err = -Errno.ENOENT;
      }
      if (res === undefined) return err;
      info.reply(build(res, info.sock, info.header.seq, 0));
      return 0;
    },
    dumpit(ctx) {
      // ctrl_dumpfamily(): every family, resuming at cb->args[0].
      const all = [...registry.families];
      let i = ctx.args[0] ?? 0;
      for (; i < all.length; i++) {
        if (!ctx.put(build(all[i]!, ctx.sock, ctx.header.seq, NLM_F.MULTI))) break;
      }
      const added = i - (ctx.args[0] ?? 0);
      ctx.args[0] = i;
      return added;
    },
  };
  const getpolicy: GenlOp = {
    cmd: CTRL_CMD.GETPOLICY,
    flags: 0,
    liberal: false,
    noDumpValidate: false,
    dumpit: () => -Errno.EOPNOTSUPP,
  };
  return {
    def: ctrlFamily,
    maxattr: 0,
    policy: ctrlPolicyFamily,
    ops: [getfamily, getpolicy],
    mcgrps: ['notify'],
    hasPolicy: true,
    id: GENL_ID_CTRL,
  };
}

// ---------------------------------------------------------------------------
// Dispatch (genl_rcv_msg)

/** genl_rcv_msg() -> genl_family_rcv_msg(). */
export function genlRcvMsg(kernel: Kernel, req: Request): HandlerResult | typeof DUMP_STARTED {
  const family = kernel.genl.get(req.type);
  if (family === undefined) return -Errno.ENOENT;
  const hdrlen = GENL_HDRLEN + family.hdrsize;
  if (req.bytes.length < 16 + hdrlen) return -Errno.EINVAL;
  const cmd = req.bytes[16]!;
  const op = family.ops.find((o) => o.cmd === cmd);
  if (op === undefined) return -Errno.EOPNOTSUPP;
  if (op.flags & 0x11 && !req.sock.capNetAdmin) return -Errno.EPERM; // GENL_ADMIN_PERM | GENL_UNS_ADMIN_PERM
  const dpIfindex = family.hdrsize ? req.dv.getInt32(16 + GENL_HDRLEN, true) : 0;
  if ((req.flags & NLM_F.DUMP) === NLM_F.DUMP) return genlFamilyRcvMsgDumpit(kernel, req, family, op, hdrlen, dpIfindex);
  if (op.doit === undefined) return -Errno.EOPNOTSUPP;
  // Without a policy the attributes are not parsed (genl_family_rcv_msg_attrs_parse()).
  const policy = op.policy ?? family.policy;
  const parsed = policy ? parseRequest(op, policy, req.bytes, hdrlen) : { tb: [] };
  if ('failure' in parsed) return nlaFailure(req.extack, parsed.failure);
  const sock = req.sock;
  const doit = op.doit;
  return kernel.ftrace.call('kernel', op.doitName ?? 'genl_family_rcv_msg_doit', undefined, () =>
    doit({
      sock,
      header: { len: req.bytes.length, type: req.type, flags: req.flags, seq: req.seq, pid: req.dv.getUint32(12, true) },
      cmd,
      dpIfindex,
      bytes: req.bytes,
      dv: req.dv,
      tb: parsed.tb,
      family,
      extack: req.extack,
      reply: (msg) => kernel.unicast(sock, msg),
      notify: (msg, group) => kernel.notify(sock, req.flags, msg, group),
    }),
  );
}

function genlFamilyRcvMsgDumpit(
  kernel: Kernel,
  req: Request,
  family: KernelGenlFamily,
  op: GenlOp,
  hdrlen: number,
  dpIfindex: number,
): HandlerResult | typeof DUMP_STARTED {
  if (op.dumpit === undefined) return -Errno.EOPNOTSUPP;
  const policy = op.policy ?? family.policy;
  if (!op.noDumpValidate && policy) {
    const parsed = parseRequest(op, policy, req.bytes, hdrlen);
    if ('failure' in parsed) return nlaFailure(req.extack, parsed.failure);
  }
  const bytes = Uint8Array.from(req.bytes); // cb keeps its own copy of the request
  const args: number[] = [];
  const header = { len: bytes.length, type: req.type, flags: req.flags, seq: req.seq, pid: req.dv.getUint32(12, true) };
  const dumpit = op.dumpit;
  const dumpitName = op.dumpitName ?? 'genl_family_rcv_msg_dumpit';
  const sock = req.sock;
  const started = op.start?.({ sock, header, dpIfindex, bytes, args, family, extack: req.extack }) ?? 0;
  if (started !== 0) return started;
  return kernel.startDump(sock, req.seq, (out, budget) => {
    let used = 0;
    const ctx: DumpContext = {
      sock,
      header,
      dpIfindex,
      bytes,
      args,
      family,
      extack: req.extack,
      put(msg) {
        const b = encode(msg);
        if (used > 0 && used + align4(b.length) > budget) return false;
        out.push(b);
        used += align4(b.length);
        return true;
      },
    };
    const n = kernel.ftrace.call('kernel', dumpitName, undefined, () => dumpit(ctx), dumpRet);
    if (n > 0) return { done: false };
    return { done: true, error: n };
  });
}

/** ctrl_fill_info(): a family's description, as CTRL_CMD_NEWFAMILY. */
export function ctrlFillInfo(kernel: Kernel, f: KernelGenlFamily, sock: KernelSocket, seq: number, flags: number): GenlMessage {
  const ctrl = kernel.genl.get(16)!;
  return {
    kind: 'genl',
    protocol: NetlinkProtocol.NETLINK_GENERIC,
    header: { len: 0, type: ctrl.id, flags, seq, pid: sock.portId },
    family: ctrl.def,
    cmd: 1, // CTRL_CMD_NEWFAMILY
    version: ctrl.version,
    reserved: 0,
    attrs: {
      familyName: f.def.name,
      familyId: f.id,
      version: f.version,
      hdrsize: f.hdrsize,
      maxattr: f.maxattr,
      ops: f.ops.map((op) => ({ id: op.cmd, flags: reportedOpFlags(f, op) })),
      ...(f.mcgrps.length ? { mcastGroups: f.mcgrps.map((g) => ({ id: g.id, name: g.name })) } : {}),
    },
  } as GenlMessage;
}

/** A dump callback's result in a trace: how many messages this part held, or the errno. */
function dumpRet(n: number): string {
  return n < 0 ? `-${errnoName(-n)}` : `${n} message${n === 1 ? '' : 's'}`;
}
