/**
 * net/sched/sch_api.c for the qdisc requests OVS sends: RTM_GETQDISC and
 * RTM_DELQDISC (tc_get_qdisc) and RTM_NEWQDISC (tc_modify_qdisc) of the root
 * qdisc a device has (sch_generic.ts) and of ingress / clsact on its ingress
 * queue. Replies and RTNLGRP_TC notifications carrying tc_fill_qdisc() are not
 * modelled.
 */
import { type AttrTable, Errno, NLMSG_HDRLEN, NLM_F, NL_VALIDATE, RTM, TC_H, TCA, nlaParse, nlaStrscpy, tcaAttrs } from '@ovs/genl-codec';
import type { NetDevice } from '../../include/linux/netdevice.js';
import type { Request } from '../../kernel.js';
import type { HandlerResult } from '../netlink/genetlink.js';
import { errMsg, nlaFailure } from '../netlink/extack.js';
import { rootQdiscId } from './sch_generic.js';

/** sizeof(struct tcmsg). */
const TCMSG_LEN = 20;
const TC_H_MAJ_MASK = 0xffff0000;
const IFNAMSIZ = 16;

/** A qdisc of the model: its id, handle and parent. */
interface Qdisc {
  id: string;
  handle: number;
  parent: number;
  ingress: boolean;
}

function parseTc(req: Request): { tb: AttrTable; ifindex: number; handle: number; parent: number } | number {
  if (req.bytes.length < NLMSG_HDRLEN + TCMSG_LEN) return -Errno.EINVAL;
  const r = nlaParse(tcaAttrs, req.bytes, NLMSG_HDRLEN + TCMSG_LEN, req.bytes.length, NL_VALIDATE.LIBERAL);
  if ('failure' in r) return nlaFailure(req.extack, r.failure);
  return {
    tb: r.tb,
    ifindex: req.dv.getInt32(NLMSG_HDRLEN + 4, true),
    handle: req.dv.getUint32(NLMSG_HDRLEN + 8, true),
    parent: req.dv.getUint32(NLMSG_HDRLEN + 12, true),
  };
}

function rootQdisc(dev: NetDevice): Qdisc {
  return { id: rootQdiscId(dev, false), handle: 0, parent: TC_H.ROOT, ingress: false };
}

function ingressQdisc(dev: NetDevice): Qdisc | undefined {
  if (!dev.ingressQueue) return undefined;
  if (dev.ingressQdisc === undefined) return { id: 'noop', handle: 0, parent: TC_H.INGRESS, ingress: false };
  return { id: dev.ingressQdisc, handle: (TC_H_MAJ_MASK & TC_H.INGRESS) >>> 0, parent: TC_H.INGRESS, ingress: true };
}

/** qdisc_lookup(): the root (handle 0 matches it) or the ingress qdisc. */
function qdiscLookup(dev: NetDevice, handle: number): Qdisc | undefined {
  const root = rootQdisc(dev);
  if (root.handle === handle) return root;
  const ing = ingressQdisc(dev);
  if (ing !== undefined && ing.handle === handle && handle !== 0) return ing;
  return undefined;
}

/** tc_get_qdisc() for RTM_GETQDISC and RTM_DELQDISC. */
export function tcGetQdisc(req: Request): HandlerResult {
  const t = parseTc(req);
  if (typeof t === 'number') return t;
  const { tb, ifindex, handle, parent: clid } = t;
  const dev = req.sock.netns.byIfindex(ifindex);
  if (dev === undefined) return -Errno.ENODEV;
  let q: Qdisc | undefined;
  if (clid) {
    if (clid !== TC_H.ROOT) {
      if ((clid & TC_H_MAJ_MASK) >>> 0 !== (TC_H.INGRESS & TC_H_MAJ_MASK) >>> 0) {
        // qdisc_lookup(dev, TC_H_MAJ(clid)): no classful qdisc in the model.
        return errMsg(req.extack, Errno.ENOENT, 'Failed to find qdisc with specified classid');
      }
      q = ingressQdisc(dev);
    } else {
      q = rootQdisc(dev);
    }
    if (q === undefined) return errMsg(req.extack, Errno.ENOENT, 'Cannot find specified qdisc on specified device');
    if (handle && q.handle !== handle) return errMsg(req.extack, Errno.EINVAL, 'Invalid handle');
  } else {
    q = qdiscLookup(dev, handle);
    if (q === undefined) return errMsg(req.extack, Errno.ENOENT, 'Failed to find qdisc with specified handle');
  }
  const kind = tb[TCA.KIND];
  if (kind && nlaStrscpy(kind, 4096) !== q.id) return errMsg(req.extack, Errno.EINVAL, 'Invalid qdisc name');
  if (req.type === RTM.DELQDISC) {
    if (!clid) return errMsg(req.extack, Errno.EINVAL, 'Classid cannot be zero');
    if (q.handle === 0) return errMsg(req.extack, Errno.ENOENT, 'Cannot delete qdisc with handle of zero');
    // qdisc_graft(): noop_qdisc takes the ingress queue.
    if (q.ingress) dev.ingressQdisc = undefined;
  }
  return 0;
}

/** tc_modify_qdisc() for RTM_NEWQDISC: creating and changing ingress / clsact. */
export function tcModifyQdisc(req: Request): HandlerResult {
  const t = parseTc(req);
  if (typeof t === 'number') return t;
  const { tb, ifindex, handle, parent: clid } = t;
  const flags = req.flags;
  const dev = req.sock.netns.byIfindex(ifindex);
  if (dev === undefined) return -Errno.ENODEV;
  const kindAttr = tb[TCA.KIND];
  const kind = kindAttr ? nlaStrscpy(kindAttr, IFNAMSIZ) : undefined;
  let q: Qdisc | undefined;
  let create = false;
  let checkCreate = true;
  if (clid) {
    if (clid !== TC_H.ROOT) {
      if (clid !== TC_H.INGRESS) return errMsg(req.extack, Errno.ENOENT, 'Failed to find specified qdisc');
      dev.ingressQueue = true; // dev_ingress_queue_create()
      q = ingressQdisc(dev);
    } else {
      q = rootQdisc(dev);
    }
    // It may be the default qdisc: ignore it.
    if (q !== undefined && q.handle === 0) q = undefined;
    if (q === undefined || !handle || q.handle !== handle) {
      if (handle) {
        if (q !== undefined && !(flags & NLM_F.REPLACE)) return errMsg(req.extack, Errno.EEXIST, 'NLM_F_REPLACE needed to override');
        if (handle & 0xffff) return errMsg(req.extack, Errno.EINVAL, 'Invalid minor handle');
        q = qdiscLookup(dev, handle);
        if (q === undefined) {
          create = true;
        } else {
          if (q.parent !== clid) return errMsg(req.extack, Errno.EINVAL, 'Cannot move an existing qdisc to a different parent');
          if (flags & NLM_F.EXCL) return errMsg(req.extack, Errno.EEXIST, 'Exclusivity flag on, cannot override');
          if (kind !== undefined && kind !== q.id) return errMsg(req.extack, Errno.EINVAL, 'Invalid qdisc name');
          if (q.ingress) return errMsg(req.extack, Errno.EINVAL, 'Cannot regraft ingress or clsact Qdiscs');
          return errMsg(req.extack, Errno.EINVAL, 'Ingress cannot graft directly');
        }
      } else if (q === undefined) {
        create = true;
      } else if (kind !== undefined && kind !== q.id) {
        const c = (flags & NLM_F.CREATE) !== 0;
        if ((c && flags & NLM_F.REPLACE) || (c && flags & NLM_F.EXCL)) create = true;
        else if (!(flags & (NLM_F.CREATE | NLM_F.REPLACE | NLM_F.EXCL))) {
          create = true;
          checkCreate = false;
        }
      }
    }
  } else {
    if (!handle) return errMsg(req.extack, Errno.EINVAL, 'Handle cannot be zero');
    q = qdiscLookup(dev, handle);
  }
  if (!create) {
    // Change the qdisc's parameters.
    if (q === undefined) return errMsg(req.extack, Errno.ENOENT, 'Specified qdisc not found');
    if (flags & NLM_F.EXCL) return errMsg(req.extack, Errno.EEXIST, 'Exclusivity flag on, cannot modify');
    if (kind !== undefined && kind !== q.id) return errMsg(req.extack, Errno.EINVAL, 'Invalid qdisc name');
    if (tb[TCA.OPTIONS]) return errMsg(req.extack, Errno.EINVAL, 'Change operation not supported by specified qdisc');
    return 0;
  }
  if (checkCreate && !(flags & NLM_F.CREATE)) return errMsg(req.extack, Errno.ENOENT, 'Qdisc not found. To create specify NLM_F_CREATE flag');
  // qdisc_create(): the model's qdisc table has ingress and clsact (sch_ingress.c).
  if (kind !== 'ingress' && kind !== 'clsact') return errMsg(req.extack, Errno.ENOENT, 'Specified qdisc kind is unknown');
  // ingress_init() / clsact_init() refuse any parent but TC_H_INGRESS (== TC_H_CLSACT).
  if (clid !== TC_H.INGRESS) return -Errno.EOPNOTSUPP;
  if (!dev.ingressQueue) return errMsg(req.extack, Errno.ENOENT, 'Cannot find ingress queue for specified device');
  dev.ingressQdisc = kind;
  return 0;
}
