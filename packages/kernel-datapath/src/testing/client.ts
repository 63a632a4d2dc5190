/**
 * A small test client: typed requests in, decoded messages out, over a
 * KernelSocket (only bytes cross).
 */
import { type GenlFamilyDef, type Message, NLM_F, NetlinkProtocol, encode, newFamilyTable, ovsDatapathFamily, ovsVportFamily } from '@ovs/genl-codec';
import type { Kernel } from '../kernel.js';
import type { KernelSocket } from '../net/netlink/af_netlink.js';
import { ask, drain, errnoOf } from './socket.js';

export class TestClient {
  readonly sock: KernelSocket;
  private seq = 1;
  readonly families = newFamilyTable();

  constructor(
    readonly kernel: Kernel,
    opts: { capNetAdmin?: boolean; rcvbuf?: number; netns?: string } = {},
  ) {
    this.sock = kernel.socket({ protocol: NetlinkProtocol.NETLINK_GENERIC, ...opts });
    for (const f of kernel.genl.families) this.families.set(f.def.name, f.id);
  }

  /** Send one request; return every message the kernel queued for this socket. */
  request(family: GenlFamilyDef, cmd: number, attrs: Record<string, unknown>, opts: { dpIfindex?: number; flags?: number } = {}): Message[] {
    const id = this.families.id(family.name)!;
    const bytes = encode({
      kind: 'genl',
      protocol: NetlinkProtocol.NETLINK_GENERIC,
      header: { len: 0, type: id, flags: opts.flags ?? NLM_F.REQUEST | NLM_F.ECHO, seq: this.seq++, pid: this.sock.portId },
      family,
      cmd,
      version: family.version,
      reserved: 0,
      dpIfindex: opts.dpIfindex ?? 0,
      attrs,
    } as Message);
    return ask(this.sock, bytes, this.families);
  }

  /** Send raw bytes. */
  raw(bytes: Uint8Array): Message[] {
    return ask(this.sock, bytes, this.families);
  }

  drain(): Message[] {
    return drain(this.sock, this.families);
  }

  /** The errno of a single NLMSG_ERROR reply (0 for an ack), or undefined if the reply is not an error. */
  static readonly errno = errnoOf;

  newDatapath(name: string, attrs: Record<string, unknown> = {}): number {
    const r = this.request(ovsDatapathFamily, 1, { name, upcallPid: 0, ...attrs });
    const m = r[0];
    if (m?.kind !== 'genl') throw new Error(`datapath ${name} not created: ${JSON.stringify(r.map((x) => x.kind))}`);
    return m.dpIfindex!;
  }

  newVport(dpIfindex: number, name: string, type: number, attrs: Record<string, unknown> = {}): Message[] {
    return this.request(ovsVportFamily, 1, { type, name, upcallPid: [1], ...attrs }, { dpIfindex });
  }
}
