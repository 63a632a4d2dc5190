/**
 * Netlink transactions over any NetlinkSocket (lib/netlink-socket.c's
 * nl_sock_transact / nl_dump): sequence numbers, the answer that completes a
 * request (an echoed message, an ack, an error, NLMSG_DONE after a dump),
 * and errors as DpifError with the errno and the extended-ack message.
 * Messages that belong to no pending request (notifications) are kept for
 * whoever polls the socket.
 */
import {
  type FamilyTable,
  type Message,
  NLM_F,
  NetlinkErrnoError,
  type NetlinkSocket,
  decode,
  encode,
  errnoName,
  strerror,
} from '@ovs/genl-codec';

/** A datapath-interface error: the Linux errno (name and number) and the kernel's extack message. */
export class DpifError extends NetlinkErrnoError {
  override readonly name: string = 'DpifError';
  constructor(
    errno: number,
    extackMessage?: string,
    readonly context?: string,
  ) {
    super(errno, extackMessage);
    if (context) this.message = `${context}: ${this.message}`;
  }
  /** OVS's ovs_strerror() text, e.g. "File exists". */
  get text(): string {
    return strerror(this.errno);
  }
  get errnoName(): string {
    return errnoName(this.errno);
  }
}

export class NlSock {
  private seq: number;
  /** Messages received that answered no request of ours (notifications). */
  readonly unsolicited: Message[] = [];

  constructor(
    readonly sock: NetlinkSocket,
    readonly families: FamilyTable,
    firstSeq = 1,
  ) {
    this.seq = firstSeq;
  }

  get portId(): number {
    return this.sock.portId;
  }

  nextSeq(): number {
    return this.seq++;
  }

  /**
   * nl_dump_start / nl_dump_next / nl_dump_done: a dump's replies as they
   * arrive, datagram by datagram, so a caller can stop early. Stopping early
   * still reads the rest of the dump (up to NLMSG_DONE), to leave the socket
   * ready for the next request. An error ending the dump is thrown.
   */
  async *dump(msg: Message): AsyncGenerator<Message, void, undefined> {
    msg.header.seq = this.nextSeq();
    msg.header.pid = this.sock.portId;
    await this.sock.send(encode(msg));
    let finished = false;
    try {
      while (!finished) {
        const datagram = await this.sock.recv();
        const r = decode(datagram, { protocol: this.sock.protocol, families: this.families });
        if (!r.ok) throw new DpifError(71 /* EPROTO */, `undecodable reply: ${r.error.message}`);
        const batch: Message[] = [];
        for (const m of r.messages) {
          if (m.header.seq !== msg.header.seq) {
            this.unsolicited.push(m);
            continue;
          }
          if (m.kind === 'done' || m.kind === 'error') {
            finished = true;
            const error = m.kind === 'done' ? (m.error ?? 0) : m.error;
            if (error !== 0) throw new DpifError(-error, m.ext?.msg);
          } else batch.push(m);
        }
        for (const m of batch) yield m;
      }
    } finally {
      // nl_dump_done(): drain what the kernel still sends for this dump.
      while (!finished) {
        const r = decode(await this.sock.recv(), { protocol: this.sock.protocol, families: this.families });
        if (!r.ok) break;
        for (const m of r.messages) if (m.header.seq === msg.header.seq && (m.kind === 'done' || m.kind === 'error')) finished = true;
      }
    }
  }

  /**
   * Send a request and wait for what completes it. Returns the reply
   * messages (the echo, or a dump's messages); throws DpifError on an error
   * reply or a dump that ends in an error.
   */
  async transact(msg: Message): Promise<Message[]> {
    msg.header.seq = this.nextSeq();
    msg.header.pid = this.sock.portId;
    const flags = msg.header.flags;
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    await this.sock.send(encode(msg));
    const replies: Message[] = [];
    for (;;) {
      const datagram = await this.sock.recv();
      const r = decode(datagram, { protocol: this.sock.protocol, families: this.families });
      if (!r.ok) throw new DpifError(71 /* EPROTO */, `undecodable reply: ${r.error.message}`);
      let complete = false;
      for (const m of r.messages) {
        if (m.header.seq !== msg.header.seq) {
          this.unsolicited.push(m);
          continue;
        }
        if (m.kind === 'error') {
          if (m.error !== 0) throw new DpifError(-m.error, m.ext?.msg);
          complete = true; // the ack: nothing follows it
        } else if (m.kind === 'done') {
          if (m.error !== undefined && m.error !== 0) throw new DpifError(-m.error, m.ext?.msg);
          complete = true;
        } else {
          replies.push(m);
          // An echo without NLM_F_ACK is the whole answer; a dump goes on until NLMSG_DONE.
          if (!dump && !(flags & NLM_F.ACK)) complete = true;
        }
      }
      if (complete) return replies;
    }
  }
}
