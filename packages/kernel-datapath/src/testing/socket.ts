/** Send on a KernelSocket and read back what the kernel queued, decoded. */
import { type FamilyTable, type Message, NetlinkProtocol, decode, encode } from '@ovs/genl-codec';
import type { KernelSocket } from '../net/netlink/af_netlink.js';

/** Every datagram queued on the socket, as it is. */
export function datagrams(sock: KernelSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let d = sock.tryRecv(); d !== undefined; d = sock.tryRecv()) out.push(d);
  return out;
}

/**
 * Every message queued on the socket (a dump's parts as the reader drains
 * them), decoded for the socket's protocol: generic netlink families by the
 * ids in `families`.
 */
export function drain(sock: KernelSocket, families?: FamilyTable): Message[] {
  const opts = sock.protocol === NetlinkProtocol.NETLINK_GENERIC ? (families !== undefined ? { families } : {}) : { protocol: sock.protocol };
  return datagrams(sock).flatMap((d) => {
    const r = decode(d, opts);
    if (!r.ok) throw r.error;
    return r.messages;
  });
}

/** Send a request (bytes, or a message to encode) and drain what comes back. */
export function ask(sock: KernelSocket, request: Uint8Array | Message, families?: FamilyTable): Message[] {
  sock.sendSync(request instanceof Uint8Array ? request : Uint8Array.from(encode(request)));
  return drain(sock, families);
}

/** The errno of the NLMSG_ERROR among the replies (0 for an ack), or undefined if there is none. */
export function errnoOf(msgs: readonly Message[]): number | undefined {
  const e = msgs.find((m) => m.kind === 'error');
  return e?.kind === 'error' ? -e.error : undefined;
}
