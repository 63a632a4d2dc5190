/**
 * What ofproto answers, as pure functions: the features reply and port
 * description replies of a bridge (handle_features_request(),
 * handle_port_desc_stats_request() of ofproto/ofproto.c), error messages
 * (ofperr_encode_msg__() of lib/ofp-errors.c) and lib/vconn.c's version texts.
 */
import { OFP_SWITCH_FEATURES_LEN, phyPortLen, statsHeaderLen, type OfpMessage, type OfpPhyPort } from './codec.js';
import {
  NXET_VENDOR,
  NXVC_VENDOR_ERROR,
  OFP10_VERSION,
  OFP11_VERSION,
  OFP13_VERSION,
  OFP15_VERSION,
  OFP_HEADER_LEN,
  OFP_MAX_MSG_LEN,
  OFPET12_EXPERIMENTER,
  OFPSF_MORE,
  formatVersion,
  leftmost1BitIdx,
} from './constants.js';
import { type OfpErrName, ofperrTriplet } from './errors.js';
import { encodePhyPort, type OfpPortDesc } from './port.js';
import { capabilitiesToWire, OFP10_ALL_ACTIONS, OFPUTIL_C } from './print.js';

/** The abstract capabilities handle_features_request() reports (ARP_MATCH_IP: ofproto-dpif matches ARP addresses). */
export const SWITCH_CAPABILITIES =
  OFPUTIL_C.FLOW_STATS |
  OFPUTIL_C.TABLE_STATS |
  OFPUTIL_C.PORT_STATS |
  OFPUTIL_C.QUEUE_STATS |
  OFPUTIL_C.GROUP_STATS |
  OFPUTIL_C.BUNDLES |
  OFPUTIL_C.ARP_MATCH_IP;

/** version_bitmap_to_string() of lib/vconn.c. */
export function versionBitmapToString(bitmap: number): string {
  if (!bitmap) return 'no versions';
  const top = formatVersion(leftmost1BitIdx(bitmap));
  if ((bitmap & (bitmap - 1)) === 0) return `version ${top}`;
  const y = (bitmap >>> 1) + 1;
  if ((y & (y - 1)) === 0) return `version ${top} and earlier`;
  const list: string[] = [];
  for (let v = 0; v < 32; v++) if (bitmap & (1 << v)) list.push(formatVersion(v));
  return `versions ${list.join(', ')}`;
}

/**
 * ofperr_encode_msg__(): an OFPT_ERROR for `error` in `version` quoting `data`
 * (OVS quotes the whole request). Errors a version cannot express become
 * NXBRC_UNENCODABLE_ERROR; unknown versions use OpenFlow 1.0's numbers.
 */
export function encodeErrorMessage(error: OfpErrName, version: number, xid: number, data: Uint8Array): OfpMessage {
  const domainVersion = version >= OFP10_VERSION && version <= OFP15_VERSION ? version : OFP10_VERSION;
  const triplet = ofperrTriplet(error, domainVersion) ?? ofperrTriplet('NXBRC_UNENCODABLE_ERROR', domainVersion)!;
  let errType: number;
  let code: number;
  let prefix: Uint8Array;
  if (!triplet.vendor) {
    errType = triplet.type;
    code = triplet.code;
    prefix = new Uint8Array(0);
  } else if (version <= OFP11_VERSION) {
    errType = NXET_VENDOR;
    code = NXVC_VENDOR_ERROR;
    prefix = new Uint8Array(8);
    const dv = new DataView(prefix.buffer);
    dv.setUint32(0, triplet.vendor);
    dv.setUint16(4, triplet.type);
    dv.setUint16(6, triplet.code);
  } else {
    errType = OFPET12_EXPERIMENTER;
    code = triplet.type;
    prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, triplet.vendor);
  }
  const room = OFP_MAX_MSG_LEN - OFP_HEADER_LEN - 4 - prefix.length;
  const quoted = data.subarray(0, Math.min(data.length, room));
  const body = new Uint8Array(prefix.length + quoted.length);
  body.set(prefix, 0);
  body.set(quoted, prefix.length);
  return { type: 'ERROR', version: domainVersion, xid, errType, code, data: body };
}

/** The features reply for `version` (handle_features_request()): ports that fit in 64 kB (none from 1.3). */
export function buildFeaturesReply(version: number, xid: number, datapathId: bigint, ports: Iterable<OfpPortDesc>, nTables = 254): OfpMessage {
  const wirePorts: OfpPhyPort[] = [];
  if (version < OFP13_VERSION) {
    const per = phyPortLen(version);
    let size = OFP_HEADER_LEN + OFP_SWITCH_FEATURES_LEN;
    for (const p of ports) {
      // ofputil_put_switch_features_port(): a port that would overflow the message is dropped.
      if (size + per > OFP_MAX_MSG_LEN) continue;
      wirePorts.push(encodePhyPort(version, p));
      size += per;
    }
  }
  return {
    type: 'FEATURES_REPLY',
    version,
    xid,
    datapathId,
    nBuffers: 0,
    nTables,
    auxiliaryId: 0,
    capabilities: capabilitiesToWire(SWITCH_CAPABILITIES, version),
    actions: version === OFP10_VERSION ? OFP10_ALL_ACTIONS : 0,
    ports: wirePorts,
  };
}

/** The port description replies (handle_port_desc_stats_request()): as many messages as 64 kB each needs, OFPSF_REPLY_MORE on all but the last. */
export function buildPortDescReplies(version: number, xid: number, ports: Iterable<OfpPortDesc>): OfpMessage[] {
  const per = phyPortLen(version);
  const max = Math.floor((OFP_MAX_MSG_LEN - statsHeaderLen(version)) / per);
  const replies: Array<{ type: 'PORT_DESC_REPLY'; version: number; xid: number; flags: number; ports: OfpPhyPort[] }> = [
    { type: 'PORT_DESC_REPLY', version, xid, flags: 0, ports: [] },
  ];
  for (const p of ports) {
    let last = replies[replies.length - 1]!;
    if (last.ports.length === max) {
      last.flags |= OFPSF_MORE;
      last = { type: 'PORT_DESC_REPLY', version, xid, flags: 0, ports: [] };
      replies.push(last);
    }
    last.ports.push(encodePhyPort(version, p));
  }
  return replies;
}
