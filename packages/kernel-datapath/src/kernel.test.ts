/**
 * netlink_ack() as Linux 6.1 answers requests whose nlmsg_len is not a
 * multiple of 4: the model's replies are the kernel lab's bytes, byte for
 * byte (vectors: genl-codec's testing/lab/unaligned-echo.json, captured with
 * raw sockets on the lab's 6.1 kernel; it says how).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetlinkProtocol } from '@ovs/genl-codec';
import { describe, expect, it } from 'vitest';
import { Kernel } from './kernel.js';

const lab = JSON.parse(readFileSync(fileURLToPath(new URL('../../genl-codec/src/testing/lab/unaligned-echo.json', import.meta.url)), 'utf8')) as {
  exchanges: Array<{ label: string; request: string; reply: string }>;
};

describe('netlink_ack() of an unaligned request', () => {
  it.each(lab.exchanges.map((e) => [e.label, e] as const))("%s: the lab kernel's reply, byte for byte", (label, e) => {
    const kernel = new Kernel();
    const request = Buffer.from(e.request, 'hex');
    const sock = kernel.socket({
      protocol: label.includes('RTM_') ? NetlinkProtocol.NETLINK_ROUTE : NetlinkProtocol.NETLINK_GENERIC,
      portId: request.readUInt32LE(12),
      extAck: label.startsWith('ext') || label.startsWith('cap'),
      capAck: label.startsWith('cap'),
    });
    sock.sendSync(request);
    expect(Buffer.from(sock.tryRecv()!).toString('hex')).toBe(e.reply);
    expect(sock.tryRecv()).toBeUndefined();
  });
});
