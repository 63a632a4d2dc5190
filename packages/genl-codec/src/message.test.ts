/**
 * NLMSG_ERROR as Linux 6.1 builds it for a request whose nlmsg_len is not a
 * multiple of 4: the echo padded to NLMSG_ALIGN, nlmsg_len covering the
 * padding, extack TLVs after it. The vectors were captured on the kernel lab
 * (testing/lab/unaligned-echo.json says how; unaligned-echo.pcap.gz is the
 * nlmon capture of the same run).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { type ErrorMessage, decode, encode } from './message.js';
import { NLM_F, NetlinkProtocol } from './netlink.js';

const LAB = fileURLToPath(new URL('./testing/lab/', import.meta.url));
const lab = JSON.parse(readFileSync(`${LAB}unaligned-echo.json`, 'utf8')) as { exchanges: Array<{ label: string; request: string; reply: string }> };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function decodeError(h: string, protocol: number): ErrorMessage {
  const r = decode(Buffer.from(h, 'hex'), { protocol });
  if (!r.ok) throw r.error;
  expect(r.messages).toHaveLength(1);
  const m = r.messages[0]!;
  if (m.kind !== 'error') throw new Error(`expected NLMSG_ERROR, got ${m.kind}`);
  return m;
}

describe('NLMSG_ERROR echoing an unaligned request (Linux 6.1, kernel lab)', () => {
  it.each(lab.exchanges.map((e) => [e.label, e] as const))('%s: decodes, echoes the request, re-encodes byte for byte', (_label, e) => {
    const protocol = e.label.includes('RTM_') ? NetlinkProtocol.NETLINK_ROUTE : NetlinkProtocol.NETLINK_GENERIC;
    const reply = Buffer.from(e.reply, 'hex');
    const m = decodeError(e.reply, protocol);
    // The kernel's nlmsg_len is the whole, aligned message.
    expect(m.header.len % 4).toBe(0);
    expect(reply.readUInt32LE(0)).toBe(reply.length);
    if (m.header.flags & NLM_F.CAPPED) expect(hex(m.request)).toBe(e.request.slice(0, 32));
    else expect(hex(m.request)).toBe(e.request);
    expect(m.ext !== undefined).toBe((m.header.flags & NLM_F.ACK_TLVS) !== 0);
    expect(hex(encode(m))).toBe(e.reply);
  });

  it('a 31-byte request is echoed in a 52-byte NLMSG_ERROR (16 + 4 + 31, aligned)', () => {
    const e = lab.exchanges.find((x) => x.label === 'noext DP_GET name ab (len 31)')!;
    const m = decodeError(e.reply, NetlinkProtocol.NETLINK_GENERIC);
    expect(m.request.length).toBe(31);
    expect(encode({ ...m, header: { ...m.header, len: 0 } }).length).toBe(52);
  });

  it('refuses non-zero or missing padding, and bytes past the padding without NLM_F_ACK_TLVS', () => {
    const e = lab.exchanges.find((x) => x.label === 'noext DP_GET name ab (len 31)')!;
    const bad = Buffer.from(e.reply, 'hex');
    bad[51] = 1;
    const r = decode(bad, { protocol: NetlinkProtocol.NETLINK_GENERIC });
    expect(r.ok).toBe(false);
    // No kernel since the extack work (4.12) ends the message inside the padding.
    const short = Buffer.from(e.reply, 'hex').subarray(0, 51);
    short.writeUInt32LE(51, 0);
    const r1 = decode(short, { protocol: NetlinkProtocol.NETLINK_GENERIC });
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.error.message).toMatch(/ends inside the padding/);
    const longer = Buffer.concat([Buffer.from(e.reply, 'hex'), Buffer.alloc(4)]);
    longer.writeUInt32LE(56, 0);
    const r2 = decode(longer, { protocol: NetlinkProtocol.NETLINK_GENERIC });
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error.message).toMatch(/unexpected bytes after the echoed request/);
  });

  it('ovs-genl decode reads the lab capture of these exchanges', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['decode', '--lenient', `${LAB}unaligned-echo.pcap.gz`], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      readInput: (file) => readFileSync(file),
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    // The three 31-byte requests that failed uncapped: ENODEV twice, the policy error without extack.
    expect(out.filter((l) => / NLMSG_ERROR len=52 /.test(l))).toHaveLength(3);
  });
});
