/**
 * Reading nlmon captures: classic pcap and pcapng files whose link type is
 * LINKTYPE_NETLINK (253). Each packet starts with a 16-byte cooked header
 * (packet type, ARPHRD_NETLINK, address length, address, protocol) followed by
 * one or more netlink messages; the protocol field says which netlink
 * protocol (NETLINK_ROUTE, NETLINK_GENERIC, ...) the messages belong to.
 */
import { NetlinkDecodeError } from './errors.js';

export const LINKTYPE_NETLINK = 253;
const COOKED_HDRLEN = 16;

export interface NetlinkPacket {
  /** 0-based frame number in the capture. */
  index: number;
  /** Seconds since the epoch, with sub-second precision. */
  time: number;
  /** Netlink protocol number from the cooked header. */
  protocol: number;
  /** Cooked-header packet type (PACKET_HOST 0, PACKET_OUTGOING 4...). */
  packetType: number;
  /** The netlink messages (nlmsghdr included). */
  data: Uint8Array;
}

/** Is this the start of a pcap or pcapng file? */
export function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const m = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1 || m === 0x0a0d0d0a;
}

/** Parse a whole capture. Throws NetlinkDecodeError (with the file offset) on a corrupt file. */
export function readCapture(bytes: Uint8Array): NetlinkPacket[] {
  if (bytes.length < 4) throw new NetlinkDecodeError(0, 'file too short for a pcap header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, true);
  if (magic === 0x0a0d0d0a) return readPcapng(bytes, dv);
  return readPcap(bytes, dv, magic);
}

function cooked(bytes: Uint8Array, dv: DataView, off: number, len: number, index: number, time: number, at: number): NetlinkPacket {
  if (len < COOKED_HDRLEN) throw new NetlinkDecodeError(at, `packet ${index} is shorter than the ${COOKED_HDRLEN}-byte netlink cooked header`);
  return {
    index,
    time,
    packetType: dv.getUint16(off, false),
    protocol: dv.getUint16(off + 14, false),
    data: bytes.slice(off + COOKED_HDRLEN, off + len),
  };
}

function readPcap(bytes: Uint8Array, dv: DataView, magic: number): NetlinkPacket[] {
  let le: boolean;
  let nano = false;
  switch (magic) {
    case 0xa1b2c3d4:
      le = true;
      break;
    case 0xd4c3b2a1:
      le = false;
      break;
    case 0xa1b23c4d:
      le = true;
      nano = true;
      break;
    case 0x4d3cb2a1:
      le = false;
      nano = true;
      break;
    default:
      throw new NetlinkDecodeError(0, `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`);
  }
  if (bytes.length < 24) throw new NetlinkDecodeError(0, 'truncated pcap file header');
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  if (linktype !== LINKTYPE_NETLINK) throw new NetlinkDecodeError(20, `link type ${linktype} is not LINKTYPE_NETLINK (253)`);
  const packets: NetlinkPacket[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (bytes.length - off < 16) throw new NetlinkDecodeError(off, `truncated pcap record header (packet ${packets.length})`);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (incl > bytes.length - off - 16) throw new NetlinkDecodeError(off, `packet ${packets.length} runs past the end of the file (${incl} bytes)`);
    packets.push(cooked(bytes, dv, off + 16, incl, packets.length, sec + frac / (nano ? 1e9 : 1e6), off));
    off += 16 + incl;
  }
  return packets;
}

function readPcapng(bytes: Uint8Array, dv: DataView): NetlinkPacket[] {
  const packets: NetlinkPacket[] = [];
  let le = true;
  let interfaces: Array<{ linktype: number; tsResol: number }> = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) throw new NetlinkDecodeError(off, 'truncated pcapng block header');
    let type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      // Section header: its byte-order magic decides the endianness of the section.
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new NetlinkDecodeError(off + 8, 'bad pcapng byte-order magic');
      type = 0x0a0d0d0a;
      interfaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || len > bytes.length - off) throw new NetlinkDecodeError(off + 4, `bad pcapng block length ${len}`);
    const body = off + 8;
    if (type === 1) {
      if (len < 20) throw new NetlinkDecodeError(off, 'truncated pcapng interface description block');
      interfaces.push({ linktype: dv.getUint16(body, le), tsResol: ifTsResol(dv, body + 8, off + len - 4, le) });
    } else if (type === 6 || type === 3) {
      const enhanced = type === 6;
      const iface = enhanced ? dv.getUint32(body, le) : 0;
      const info = interfaces[iface];
      if (!info) throw new NetlinkDecodeError(body, `packet refers to unknown interface ${iface}`);
      if (info.linktype !== LINKTYPE_NETLINK) throw new NetlinkDecodeError(body, `link type ${info.linktype} is not LINKTYPE_NETLINK (253)`);
      let time = 0;
      let dataOff: number;
      let caplen: number;
      if (enhanced) {
        if (len < 32) throw new NetlinkDecodeError(off, 'truncated enhanced packet block');
        const ts = dv.getUint32(body + 4, le) * 2 ** 32 + dv.getUint32(body + 8, le);
        time = ts / info.tsResol;
        caplen = dv.getUint32(body + 12, le);
        dataOff = body + 20;
      } else {
        caplen = Math.min(dv.getUint32(body, le), len - 16);
        dataOff = body + 4;
      }
      if (caplen > off + len - 4 - dataOff) throw new NetlinkDecodeError(body, `packet data runs past its block (${caplen} bytes)`);
      packets.push(cooked(bytes, dv, dataOff, caplen, packets.length, time, off));
    }
    off += len;
  }
  return packets;
}

/** if_tsresol option of an interface description block (default microseconds). */
function ifTsResol(dv: DataView, off: number, end: number, le: boolean): number {
  while (end - off >= 4) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === 0) break;
    if (code === 9 && len >= 1) {
      const v = dv.getUint8(off + 4);
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
    }
    off += 4 + ((len + 3) & ~3);
  }
  return 1e6;
}
