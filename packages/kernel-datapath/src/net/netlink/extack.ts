/**
 * How a handler's failure reaches NLMSG_ERROR: an errno with what
 * NL_SET_ERR_MSG(), NL_SET_ERR_MSG_ATTR() and a policy failure put in
 * extack (include/linux/netlink.h).
 */
import { NetlinkErrnoError, type ParsedAttr, type ValidationFailure } from '@ovs/genl-codec';
import type { HandlerResult } from './genetlink.js';

/** NL_SET_ERR_MSG / NL_SET_ERR_MSG_ATTR: `-errno` with the message (and the offending attribute). */
export function errMsg(errno: number, message: string, at?: ParsedAttr): HandlerResult {
  return at !== undefined ? { error: -errno, message, offset: at.offset } : { error: -errno, message };
}

/** What nla_parse()'s validation leaves in extack, as a handler's result. */
export function failure(f: ValidationFailure): HandlerResult {
  const r: { error: number; message?: string; offset?: number; policy?: ValidationFailure['policy']; missingType?: number } = { error: -f.errno };
  if (f.message !== undefined) r.message = f.message;
  if (f.offset !== undefined) r.offset = f.offset;
  if (f.policy !== undefined) r.policy = f.policy;
  if (f.missingType !== undefined) r.missingType = f.missingType;
  return r;
}

/** Thrown inside a handler to answer with this result (a failed step deep in a call chain). */
export class Abort {
  constructor(readonly result: HandlerResult) {}
  /** The errno a trace shows for the function it unwinds through. */
  get errno(): number {
    const r = this.result;
    return -(typeof r === 'number' ? r : r.error);
  }
}

/** The result an Abort or a NetlinkErrnoError unwinding out of a handler stands for. */
export function fromThrown(err: unknown): HandlerResult {
  if (err instanceof Abort) return err.result;
  if (err instanceof NetlinkErrnoError) return -err.errno;
  throw err;
}
