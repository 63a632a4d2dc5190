/**
 * struct netlink_ext_ack (include/linux/netlink.h): what a handler says
 * about its failure beside the negative errno it returns, written into the
 * NLMSG_ERROR's extended-ack TLVs (netlink_ack()). Nothing in the kernel
 * throws: a function that makes something returns it or the errno, as the
 * C returns ERR_PTR().
 */
import { Errno, type ParsedAttr, type Policy, type ValidationFailure } from '@ovs/genl-codec';

export class ExtAck {
  /** NLMSGERR_ATTR_MSG. */
  msg: string | undefined;
  /** NLMSGERR_ATTR_OFFS: the offending attribute's offset in the request. */
  badAttr: number | undefined;
  /** NLMSGERR_ATTR_POLICY: the policy it failed. */
  policy: Policy | undefined;
  /** NLMSGERR_ATTR_MISS_TYPE: the required attribute that is missing. */
  missType: number | undefined;
}

/** NL_SET_ERR_MSG / NL_SET_ERR_MSG_ATTR: the message (and the attribute) in extack; returns -errno. */
export function errMsg(extack: ExtAck, errno: number, message: string, at?: ParsedAttr): number {
  extack.msg = message;
  if (at !== undefined) extack.badAttr = at.offset;
  return -errno;
}

/** NL_SET_ERR_ATTR_MISS (GENL_REQ_ATTR_CHECK): a required attribute is missing; returns -EINVAL. */
export function errAttrMiss(extack: ExtAck, type: number): number {
  extack.missType = type;
  return -Errno.EINVAL;
}

/** What nla_parse()'s validation leaves in extack; returns its -errno. */
export function nlaFailure(extack: ExtAck, f: ValidationFailure): number {
  if (f.message) extack.msg = f.message;
  extack.badAttr = f.offset;
  extack.policy = f.policy;
  extack.missType = f.missingType;
  return -f.errno;
}
