/**
 * Netlink transactions over any NetlinkSocket (lib/netlink-socket.c's
 * nl_sock_transact / nl_dump): sequence numbers, the answer that completes a
 * request (an echoed message, an ack, an error, NLMSG_DONE after a dump),
 * and errors as NlSockError with the errno and the extended-ack message.
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
  formatMessage,
  strerror,
} from '@ovs/genl-codec';
import { type TraceNode, currentLayer, traceAdd, tracing } from '@ovs/trace';

/**
 * A failed netlink transaction: the Linux errno (name and number) and the
 * kernel's extack message. Every layer above the socket (netdev, dpif)
 * reports its errors with it; @ovs/dpif-netlink exports it as DpifError.
 */
export class NlSockError extends NetlinkErrnoError {
  override readonly name: string = 'NlSockError';
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
    const node = await this.sendTraced(msg);
    let finished = false;
    try {
      while (!finished) {
        const datagram = await this.recv();
        const r = decode(datagram, { protocol: this.sock.protocol, families: this.families });
        if (!r.ok) throw new NlSockError(71 /* EPROTO */, `undecodable reply: ${r.error.message}`);
        if (node) this.traceReplies(node, r.messages, msg.header.seq);
        const batch: Message[] = [];
        for (const m of r.messages) {
          if (m.header.seq !== msg.header.seq) {
            this.unsolicited.push(m);
            continue;
          }
          if (m.kind === 'done' || m.kind === 'error') {
            finished = true;
            const error = m.kind === 'done' ? (m.error ?? 0) : m.error;
            if (error !== 0) throw new NlSockError(-error, m.ext?.msg);
          } else batch.push(m);
        }
        for (const m of batch) yield m;
      }
    } finally {
      // nl_dump_done(): drain what the kernel still sends for this dump.
      while (!finished) {
        const r = decode(await this.recv(), { protocol: this.sock.protocol, families: this.families });
        if (!r.ok) break;
        for (const m of r.messages) if (m.header.seq === msg.header.seq && (m.kind === 'done' || m.kind === 'error')) finished = true;
      }
    }
  }

  /**
   * Send a request and wait for what completes it. Returns the reply
   * messages (the echo, or a dump's messages); throws NlSockError on an error
   * reply or a dump that ends in an error.
   */
  async transact(msg: Message): Promise<Message[]> {
    msg.header.seq = this.nextSeq();
    msg.header.pid = this.sock.portId;
    const flags = msg.header.flags;
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    const node = await this.sendTraced(msg);
    const replies: Message[] = [];
    for (;;) {
      const datagram = await this.recv();
      const r = decode(datagram, { protocol: this.sock.protocol, families: this.families });
      if (!r.ok) throw new NlSockError(71 /* EPROTO */, `undecodable reply: ${r.error.message}`);
      if (node) this.traceReplies(node, r.messages, msg.header.seq);
      let complete = false;
      for (const m of r.messages) {
        if (m.header.seq !== msg.header.seq) {
          this.unsolicited.push(m);
          continue;
        }
        if (m.kind === 'error') {
          if (m.error !== 0) throw new NlSockError(-m.error, m.ext?.msg);
          complete = true; // the ack: nothing follows it
        } else if (m.kind === 'done') {
          if (m.error !== undefined && m.error !== 0) throw new NlSockError(-m.error, m.ext?.msg);
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

  /** recv(): a failure of the socket itself (its transport lost: ECONNRESET...) is an NlSockError like the kernel's. */
  private recv(): Promise<Uint8Array> {
    return asNlSockError(this.sock.recv());
  }

  /**
   * send(); when the operation is being traced, also the request as a trace
   * node (decoded), with what the kernel reports it ran for it (a kernel
   * that can tell is asked to, for as long as traced requests go on).
   */
  private async sendTraced(msg: Message): Promise<TraceNode | undefined> {
    const bytes = encode(msg);
    const traced = tracing();
    if (traced !== this.kernelTraceOn && this.sock.setKernelTrace) {
      await this.sock.setKernelTrace(traced);
      this.kernelTraceOn = traced;
    }
    if (!traced) {
      await asNlSockError(this.sock.send(bytes));
      return undefined;
    }
    const r = decode(bytes, { protocol: this.sock.protocol, families: this.families });
    const node = traceAdd({
      kind: 'request',
      layer: currentLayer() ?? 'dpif',
      ...(r.ok ? messageText(r.messages[0]!, this.families) : { name: 'undecodable request' }),
    })!;
    try {
      await asNlSockError(this.sock.send(bytes));
    } finally {
      this.traceKernel(node);
    }
    if (!this.sock.takeKernelTrace)
      node.children.push({ kind: 'note', layer: 'kernel', name: 'kernel functions not reported (a real kernel: use ftrace)', children: [] });
    return node;
  }

  /** The kernel's report of what it ran, nested by depth under the request. */
  private traceKernel(node: TraceNode): void {
    const events = this.sock.takeKernelTrace?.() ?? [];
    const stack: TraceNode[] = [node];
    for (const e of events) {
      const n: TraceNode = { kind: 'call', layer: e.layer, name: e.fn, children: [] };
      if (e.note !== undefined) n.args = e.note;
      if (e.ret !== undefined) {
        n.result = e.ret;
        n.failed = e.ret.startsWith('-');
      }
      stack.length = Math.min(stack.length, e.depth + 1);
      stack[stack.length - 1]!.children.push(n);
      stack.push(n);
    }
  }

  /** Replies to the traced request (notifications for others are not part of it). */
  private traceReplies(node: TraceNode, messages: Message[], seq: number): void {
    this.traceKernel(node);
    for (const m of messages) {
      if (m.header.seq !== seq) continue;
      const failed = (m.kind === 'error' || m.kind === 'done') && (m.error ?? 0) !== 0;
      node.children.push({ kind: 'reply', layer: 'kernel', ...messageText(m, this.families), ...(failed ? { failed } : {}), children: [] });
    }
  }

  private kernelTraceOn = false;
}

/** A socket's own errno failure as an NlSockError (errno and reason kept), so callers handle it as any errno. */
async function asNlSockError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof NetlinkErrnoError && !(err instanceof NlSockError)) throw new NlSockError(err.errno, err.extackMessage);
    throw err;
  }
}

/**
 * A message as a trace shows it: its type ("ovs_vport OVS_VPORT_CMD_NEW"),
 * the header fields that say something as args, the decoded attributes as
 * lines.
 */
function messageText(m: Message, families: FamilyTable): { name: string; args?: string; lines?: string[] } {
  const [head = '', ...rest] = formatMessage(m, families).split('\n');
  const words = head.split(' ');
  const firstField = words.findIndex((w) => w.includes('='));
  const name = words.slice(0, firstField < 0 ? words.length : firstField).join(' ');
  // Lengths and zero fields say little here; port ids differ from run to run.
  const args =
    firstField < 0
      ? ''
      : words
          .slice(firstField)
          .filter((w) => !/^(len|pid)=|=0$/.test(w))
          .join(' ');
  const lines = rest.map((l) => l.replace(/^ {2}/, '').replace(/ pid=\d+/, ''));
  return { name, ...(args ? { args } : {}), ...(lines.length ? { lines } : {}) };
}
