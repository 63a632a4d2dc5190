/**
 * OpenFlow errors as Open vSwitch names them (enum ofperr,
 * include/openvswitch/ofp-errors.h): the ones this package sends or reads,
 * with their (vendor, type, code) in each OpenFlow version, and the typed
 * errors the codec throws or returns.
 */
import { NX_VENDOR_ID, OFP10_VERSION, OFP11_VERSION, OFP12_VERSION, OFP13_VERSION, OFP15_VERSION } from './constants.js';

export type OfpErrName =
  | 'OFPHFC_INCOMPATIBLE'
  | 'OFPHFC_EPERM'
  | 'OFPBRC_BAD_VERSION'
  | 'OFPBRC_BAD_TYPE'
  | 'OFPBRC_BAD_STAT'
  | 'OFPBRC_BAD_VENDOR'
  | 'OFPBRC_BAD_SUBTYPE'
  | 'OFPBRC_EPERM'
  | 'OFPBRC_BAD_LEN'
  | 'OFPBRC_MULTIPART_BUFFER_OVERFLOW'
  | 'OFPBAC_BAD_OUT_PORT'
  | 'OFPSCFC_BAD_FLAGS'
  | 'NXBRC_UNENCODABLE_ERROR';

/** One error's numbers in one version: vendor 0 for standard errors. */
export interface OfpErrTriplet {
  vendor: number;
  type: number;
  code: number;
}

interface ErrDef {
  name: OfpErrName;
  /** [minVersion, maxVersion, vendor, type, code] ranges, as the comments in ofp-errors.h give them. */
  ranges: Array<[number, number, number, number, number]>;
}

const ALL = [OFP10_VERSION, OFP15_VERSION] as const;
const std = (type: number, code: number, from: number = ALL[0], to: number = ALL[1]): [number, number, number, number, number] => [from, to, 0, type, code];

const ERRORS: readonly ErrDef[] = [
  { name: 'OFPHFC_INCOMPATIBLE', ranges: [std(0, 0)] }, // OF1.0+(0,0)
  { name: 'OFPHFC_EPERM', ranges: [std(0, 1)] }, // OF1.0+(0,1)
  { name: 'OFPBRC_BAD_VERSION', ranges: [std(1, 0)] }, // OF1.0+(1,0)
  { name: 'OFPBRC_BAD_TYPE', ranges: [std(1, 1)] }, // OF1.0+(1,1)
  { name: 'OFPBRC_BAD_STAT', ranges: [std(1, 2)] }, // OF1.0+(1,2)
  { name: 'OFPBRC_BAD_VENDOR', ranges: [std(1, 3)] }, // OF1.0+(1,3)
  { name: 'OFPBRC_BAD_SUBTYPE', ranges: [std(1, 4)] }, // OF1.0+(1,4)
  { name: 'OFPBRC_EPERM', ranges: [std(1, 5)] }, // OF1.0+(1,5)
  { name: 'OFPBRC_BAD_LEN', ranges: [std(1, 6)] }, // OF1.0+(1,6)
  { name: 'OFPBRC_MULTIPART_BUFFER_OVERFLOW', ranges: [std(1, 13, OFP13_VERSION)] }, // OF1.3+(1,13)
  { name: 'OFPBAC_BAD_OUT_PORT', ranges: [std(2, 4)] }, // OF1.0+(2,4)
  { name: 'OFPSCFC_BAD_FLAGS', ranges: [std(10, 0, OFP11_VERSION)] }, // OF1.1+(10,0)
  {
    // NX1.0-1.1(1,521), NX1.2+(10)
    name: 'NXBRC_UNENCODABLE_ERROR',
    ranges: [
      [OFP10_VERSION, OFP11_VERSION, NX_VENDOR_ID, 1, 521],
      [OFP12_VERSION, OFP15_VERSION, NX_VENDOR_ID, 10, 0],
    ],
  },
];

const BY_NAME = new Map(ERRORS.map((e) => [e.name, e]));

/** The error's numbers in `version`, or undefined where that version cannot express it. */
export function ofperrTriplet(name: OfpErrName, version: number): OfpErrTriplet | undefined {
  const def = BY_NAME.get(name);
  for (const [from, to, vendor, type, code] of def?.ranges ?? []) {
    if (version >= from && version <= to) return { vendor, type, code };
  }
  return undefined;
}

/** ofperr_decode(): the name of (vendor, type, code) in `version`, if this package knows it. */
export function ofperrDecode(version: number, vendor: number, type: number, code: number): OfpErrName | undefined {
  for (const def of ERRORS) {
    for (const [from, to, v, t, c] of def.ranges) {
      if (version >= from && version <= to && vendor === v && type === t && code === c) return def.name;
    }
  }
  return undefined;
}

/** Raised (or returned) by the decoder: what OVS would answer (`ofperr`), where and why. */
export class OfpDecodeError extends Error {
  override readonly name: string = 'OfpDecodeError';
  constructor(
    /** The error OVS replies with for such a message (OFPBRC_BAD_LEN, OFPBRC_BAD_TYPE...). */
    readonly ofperr: OfpErrName,
    readonly reason: string,
    /** Byte offset in the message where decoding stopped. */
    readonly offset: number,
  ) {
    super(`${ofperr}: ${reason} (at byte ${offset})`);
  }
}

/** Raised by the encoder for values that do not fit the wire. */
export class OfpEncodeError extends Error {
  override readonly name: string = 'OfpEncodeError';
}
