/**
 * A bridge's OpenFlow management listener: the "punix:$OVS_RUNDIR/<bridge>.mgmt"
 * service controller that vswitchd/bridge.c gives every bridge, answered as
 * ofproto/connmgr.c + ofproto/ofproto.c answer it (version negotiation in
 * lib/vconn.c, inactivity probes in lib/rconn.c). Any number of clients;
 * each is a service connection (miss_send_len 0).
 *
 * It reads the switch through OpenflowSwitch (two calls); everything else
 * (n_tables 254, no buffers, ofproto-dpif's capabilities and OpenFlow 1.0
 * actions) is what OVS 3.1 reports for a bridge.
 */
import { unlinkSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { decodeHeader, decodeMessage, encodeHelloFor, encodeMessage, helloVersions, OfpFramer, type OfpMessage } from './codec.js';
import {
  OFP13_VERSION,
  OFPC_FRAG_MASK,
  OFPC_FRAG_NORMAL,
  OFPC_FRAG_REASM,
  OFPC_INVALID_TTL_TO_CONTROLLER,
  OFPP_ANY,
  OFPSF_MORE,
  OFPUTIL_DEFAULT_VERSIONS,
  leftmost1BitIdx,
} from './constants.js';
import type { OfpErrName } from './errors.js';
import { buildFeaturesReply, buildPortDescReplies, encodeErrorMessage, versionBitmapToString } from './ofproto.js';
import { portFromOfp11, type OfpPortDesc } from './port.js';
import { formatMessage, fragHandlingName } from './print.js';

/**
 * What the server needs from the switch. Both calls may return promises; they
 * are made for every features or port-description request, so the answer is
 * always current.
 */
export interface OpenflowSwitch {
  /** ofproto->datapath_id: OVS uses other_config:datapath-id, else the LOCAL port's MAC (0000 + 6 bytes). */
  datapathId(): bigint | Promise<bigint>;
  /** The bridge's OpenFlow ports, OFPP_LOCAL (0xfffe) included. */
  ports(): Iterable<OfpPortDesc> | Promise<Iterable<OfpPortDesc>>;
}

export type OpenflowLog = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string) => void;

export interface OpenflowMgmtServerOptions {
  /** The bridge's name, for log lines ("br0<->unix#0: ..."). Default: the socket's file name without ".mgmt". */
  name?: string;
  /** Bitmap of allowed versions (bit N = wire version N): Bridge.protocols. Default OFPUTIL_DEFAULT_VERSIONS (OpenFlow 1.0-1.5). */
  allowedVersions?: number;
  /** ofproto_get_n_visible_tables(): 254 for ofproto-dpif (table 254 is hidden). */
  nTables?: number;
  /** rconn's inactivity probe: an echo request after this long without a message, a disconnect after as long again. Default 60 s (bridge.c's management controller); 0 disables. */
  probeIntervalMs?: number;
  log?: OpenflowLog;
  /** Sees every message in (`dir: 'recv'`) and out (`'send'`), per connection: for debugging and tests. */
  trace?: (conn: string, dir: 'recv' | 'send', bytes: Uint8Array) => void;
}

let nextUnixIdx = 0;

/** The bridge's management listener. */
export class OpenflowMgmtServer {
  private readonly conns = new Set<OfConn>();
  /** ofproto->frag_handling (shared by the bridge's connections). */
  fragHandling = OFPC_FRAG_NORMAL;
  private xid = 0;

  private constructor(
    readonly path: string,
    readonly sw: OpenflowSwitch,
    private readonly server: Server,
    readonly options: Required<Omit<OpenflowMgmtServerOptions, 'log' | 'trace'>> & Pick<OpenflowMgmtServerOptions, 'log' | 'trace'>,
  ) {}

  /** Binds `path` (replacing a stale socket file, as make_unix_socket() does) and starts answering. */
  static async listen(path: string, sw: OpenflowSwitch, options: OpenflowMgmtServerOptions = {}): Promise<OpenflowMgmtServer> {
    try {
      unlinkSync(path);
    } catch {
      // ENOENT, or the bind below reports the problem.
    }
    const server = createServer({ allowHalfOpen: false });
    const base = path.split('/').pop() ?? path;
    const opts = {
      name: options.name ?? base.replace(/\.mgmt$/, ''),
      allowedVersions: options.allowedVersions ?? OFPUTIL_DEFAULT_VERSIONS,
      nTables: options.nTables ?? 254,
      probeIntervalMs: options.probeIntervalMs ?? 60_000,
      log: options.log,
      trace: options.trace,
    };
    if (!(opts.allowedVersions & 0x7e)) throw new Error('allowedVersions must include one of OpenFlow 1.0 to 1.5');
    const self = new OpenflowMgmtServer(path, sw, server, opts);
    server.on('connection', (socket) => self.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path, backlog: 64 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return self;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** alloc_xid() for messages the switch originates (hello, probes). */
  allocXid(): number {
    this.xid = (this.xid + 1) >>> 0;
    return this.xid;
  }

  log(level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void {
    this.options.log?.(level, module, text);
  }

  private accept(socket: Socket): void {
    const conn = new OfConn(this, socket, `${this.options.name}<->unix#${nextUnixIdx++}`);
    this.conns.add(conn);
    socket.once('close', () => {
      conn.stop();
      this.conns.delete(conn);
    });
  }

  /** Stops listening, drops the clients and removes the socket file. */
  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (net.Server removes it on close).
    }
  }
}

/** One client (struct ofconn over an rconn over a vconn). */
class OfConn {
  private state: 'hello' | 'connected' | 'closed' = 'hello';
  private version = 0;
  private readonly framer = new OfpFramer();
  private queue: Promise<void> = Promise.resolve();
  private missSendLen = 0; // OFCONN_SERVICE
  private invalidTtlToController = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private idle = false;
  /** Multipart requests (1.3+) waiting for their last piece, by xid. */
  private readonly assembler = new Map<number, Uint8Array[]>();

  constructor(
    private readonly server: OpenflowMgmtServer,
    private readonly socket: Socket,
    private readonly name: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.destroy());
    const allowed = server.options.allowedVersions;
    this.send(encodeHelloFor(allowed, server.allocXid()));
    this.armProbe();
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const { messages, error } = this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (const m of messages) this.queue = this.queue.then(() => this.handle(m)).catch((err: unknown) => this.fail(err));
    if (error) {
      this.queue = this.queue.then(() => {
        this.server.log('ERR', 'vconn_stream', error);
        this.destroy();
      });
    }
  }

  private fail(err: unknown): void {
    this.server.log('ERR', 'connmgr', `${this.name}: ${err instanceof Error ? err.message : String(err)}`);
    this.destroy();
  }

  private send(msg: OfpMessage): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    const bytes = encodeMessage(msg);
    this.server.options.trace?.(this.name, 'send', bytes);
    this.socket.write(bytes);
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stop();
    this.socket.destroy();
  }

  stop(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** rconn's S_ACTIVE -> S_IDLE (echo request) -> disconnect. */
  private armProbe(): void {
    const interval = this.server.options.probeIntervalMs;
    if (!interval || this.state === 'closed') return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => this.probe(), interval);
    this.probeTimer.unref();
  }

  private probe(): void {
    if (this.state === 'closed') return;
    const secs = Math.round(this.server.options.probeIntervalMs / 1000);
    if (this.idle) {
      this.server.log('ERR', 'rconn', `${this.name}: no response to inactivity probe after ${secs} seconds, disconnecting`);
      this.destroy();
      return;
    }
    this.server.log('DBG', 'rconn', `${this.name}: idle ${secs} seconds, sending inactivity probe`);
    this.idle = true;
    if (this.state === 'connected') this.send({ type: 'ECHO_REQUEST', version: this.version, xid: 0, data: new Uint8Array(0) });
    this.armProbe();
  }

  private async handle(bytes: Uint8Array): Promise<void> {
    if (this.state === 'closed') return;
    this.server.options.trace?.(this.name, 'recv', bytes);
    this.idle = false;
    this.armProbe();
    if (this.state === 'hello') return this.receiveHello(bytes);
    const header = decodeHeader(bytes)!;
    const r = decodeMessage(bytes);
    if (header.version !== this.version) {
      // vconn_recv(): only hello, error and echo may come in another version.
      const immutable =
        r.ok && (r.message.type === 'HELLO' || r.message.type === 'ERROR' || r.message.type === 'ECHO_REQUEST' || r.message.type === 'ECHO_REPLY');
      if (!immutable) {
        this.server.log(
          'ERR',
          'vconn',
          `${this.name}: received OpenFlow version 0x${header.version.toString(16).padStart(2, '0')} != expected ${this.version.toString(16).padStart(2, '0')}`,
        );
        this.sendError('OFPBRC_BAD_VERSION', bytes);
        return;
      }
    }
    if (!r.ok) {
      this.server.log('WARN', 'ofp_msgs', `${this.name}: ${r.error.reason}`);
      this.sendError(r.error.ofperr, bytes);
      return;
    }
    await this.dispatch(r.message, bytes);
  }

  private receiveHello(bytes: Uint8Array): void {
    const r = decodeMessage(bytes);
    if (!r.ok || r.message.type !== 'HELLO') {
      this.server.log('WARN', 'vconn', `${this.name}: received message while expecting hello: ${formatMessage(bytes).trimEnd()}`);
      this.destroy();
      return;
    }
    const { versions: peer, ok } = helloVersions(r.message);
    if (!ok) this.server.log('WARN', 'vconn', `${this.name}: unknown data in hello`);
    const allowed = this.server.options.allowedVersions;
    const common = (peer & allowed) >>> 0;
    if (!common) {
      this.version = leftmost1BitIdx(peer);
      const local = versionBitmapToString(allowed);
      const remote = versionBitmapToString(peer);
      this.server.log('WARN', 'vconn', `${this.name}: version negotiation failed (we support ${local}, peer supports ${remote})`);
      const text = new TextEncoder().encode(`We support ${local}, you support ${remote}, no common versions.`.slice(0, 127));
      this.send(encodeErrorMessage('OFPHFC_INCOMPATIBLE', this.version, 0, text));
      this.state = 'closed';
      this.stop();
      this.socket.end();
      return;
    }
    this.version = leftmost1BitIdx(common);
    this.state = 'connected';
    this.server.log(
      'DBG',
      'vconn',
      `${this.name}: negotiated OpenFlow version 0x${this.version.toString(16).padStart(2, '0')} (we support ${versionBitmapToString(allowed)}, peer supports ${versionBitmapToString(peer)})`,
    );
  }

  private sendError(error: OfpErrName, request: Uint8Array): void {
    const h = decodeHeader(request)!;
    this.send(encodeErrorMessage(error, h.version, h.xid, request));
  }

  /** handle_single_part_openflow(). */
  private async dispatch(msg: OfpMessage, bytes: Uint8Array): Promise<void> {
    const { version, xid } = msg;
    switch (msg.type) {
      case 'ECHO_REQUEST':
        this.send({ type: 'ECHO_REPLY', version, xid, data: msg.data });
        return;
      case 'ECHO_REPLY':
        return;
      case 'FEATURES_REQUEST': {
        const [dpid, ports] = await Promise.all([this.server.sw.datapathId(), this.server.sw.ports()]);
        this.send(buildFeaturesReply(version, xid, dpid, ports, this.server.options.nTables));
        return;
      }
      case 'GET_CONFIG_REQUEST': {
        let flags = this.server.fragHandling;
        if (this.invalidTtlToController && version < OFP13_VERSION) flags |= OFPC_INVALID_TTL_TO_CONTROLLER;
        this.send({ type: 'GET_CONFIG_REPLY', version, xid, flags, missSendLen: this.missSendLen });
        return;
      }
      case 'SET_CONFIG': {
        const valid = version < OFP13_VERSION ? OFPC_FRAG_MASK | OFPC_INVALID_TTL_TO_CONTROLLER : OFPC_FRAG_MASK;
        if (msg.flags & ~valid) return this.sendError('OFPSCFC_BAD_FLAGS', bytes);
        const frag = msg.flags & OFPC_FRAG_MASK;
        if (frag !== this.server.fragHandling) {
          // ofproto-dpif's set_frag_handling() refuses reassembly.
          if (frag !== OFPC_FRAG_REASM) this.server.fragHandling = frag;
          else this.server.log('WARN', 'ofproto', `${this.server.options.name}: unsupported fragment handling mode ${fragHandlingName(frag)}`);
        }
        if (version < OFP13_VERSION) this.invalidTtlToController = (msg.flags & OFPC_INVALID_TTL_TO_CONTROLLER) !== 0;
        this.missSendLen = msg.missSendLen;
        return;
      }
      case 'BARRIER_REQUEST':
        this.send({ type: 'BARRIER_REPLY', version, xid });
        return;
      case 'PORT_DESC_REQUEST': {
        // ofpmp_assembler_execute(): 1.3+ requests may come in pieces.
        if (version >= OFP13_VERSION && msg.flags & OFPSF_MORE) {
          const parts = this.assembler.get(xid) ?? [];
          parts.push(bytes);
          this.assembler.set(xid, parts);
          return;
        }
        this.assembler.delete(xid);
        let port = OFPP_ANY;
        if (msg.portNo !== undefined) {
          const p = portFromOfp11(msg.portNo);
          if (p === undefined) return this.sendError('OFPBAC_BAD_OUT_PORT', bytes);
          port = p;
        }
        const all = await this.server.sw.ports();
        const selected = port === OFPP_ANY ? all : [...all].filter((p) => p.portNo === port);
        for (const reply of buildPortDescReplies(version, xid, selected)) this.send(reply);
        return;
      }
      default:
        // Replies and asynchronous messages are not requests.
        this.sendError('OFPBRC_BAD_TYPE', bytes);
    }
  }
}
