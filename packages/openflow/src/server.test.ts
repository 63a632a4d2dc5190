/**
 * The management listener speaking OpenFlow to a raw client: what OVS 3.1's
 * connmgr/ofproto/vconn/rconn do for hello and version negotiation
 * (lib/vconn.c), messages of another version, what they do not handle
 * (ofperr_encode_reply(): the whole request quoted back), switch config,
 * barriers, port descriptions, inactivity probes, many clients.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeMessageOrThrow, encodeHelloFor, encodeMessage, type OfpMessage, OfpFramer } from './codec.js';
import { OFPP_LOCAL, OFPSF_MORE } from './constants.js';
import { decodePhyPort, type OfpPortDesc } from './port.js';
import { type OpenflowMgmtServerOptions, OpenflowMgmtServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'ofmgmt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const PORTS: OfpPortDesc[] = [
  { portNo: OFPP_LOCAL, name: 'br0', hwAddr: '02:00:00:00:00:fe', config: 1, state: 1 },
  { portNo: 1, name: 'p1', hwAddr: '02:00:00:00:00:01' },
  { portNo: 2, name: 'p2', hwAddr: '02:00:00:00:00:02' },
];

class RawClient {
  private readonly framer = new OfpFramer();
  private readonly inbox: Uint8Array[] = [];
  private wake: (() => void) | undefined;
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.inbox.push(...this.framer.push(new Uint8Array(c)).messages);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }
  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ path });
      s.once('error', reject);
      s.once('connect', () => resolve(new RawClient(s)));
    });
  }
  /** The next message, or undefined once the server closed the connection. */
  async recv(): Promise<Uint8Array | undefined> {
    for (;;) {
      const m = this.inbox.shift();
      if (m) return m;
      if (this.closed) return undefined;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async recvMsg(): Promise<OfpMessage> {
    const b = await this.recv();
    if (!b) throw new Error('connection closed');
    return decodeMessageOrThrow(b);
  }
  send(b: Uint8Array | OfpMessage): void {
    this.socket.write(b instanceof Uint8Array ? b : encodeMessage(b));
  }
  /** Reads the switch's hello, sends ours (OpenFlow 1.0 only unless said). */
  async handshake(allowed = 0x02): Promise<OfpMessage> {
    const hello = await this.recvMsg();
    this.send(encodeHelloFor(allowed, 1));
    return hello;
  }
  close(): void {
    this.socket.destroy();
  }
}

let servers: OpenflowMgmtServer[] = [];
let clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
  servers = [];
  clients = [];
});

let n = 0;
async function start(
  options: OpenflowMgmtServerOptions = {},
  ports: OfpPortDesc[] = PORTS,
): Promise<{ server: OpenflowMgmtServer; log: string[]; connect: () => Promise<RawClient> }> {
  const log: string[] = [];
  const server = await OpenflowMgmtServer.listen(
    join(dir, `br${n++}.mgmt`),
    { datapathId: () => 0x0000020000000000fen, ports: async () => ports },
    { log: (level, module, text) => log.push(`${module}|${level}|${text}`), ...options },
  );
  servers.push(server);
  return {
    server,
    log,
    connect: async () => {
      const c = await RawClient.connect(server.path);
      clients.push(c);
      return c;
    },
  };
}

describe('hello and version negotiation', () => {
  it('the switch speaks first: an 8-byte OpenFlow 1.5 hello (1.0-1.5 need no bitmap); 1.0 is agreed with ovs-ofctl', async () => {
    const { connect } = await start();
    const c = await connect();
    const hello = await c.recv();
    expect(hex(hello!).slice(0, 8)).toBe('06000008');
    c.send(bytes('0100000800000001'));
    c.send(bytes('0105000800000002'));
    const reply = await c.recvMsg();
    expect(reply).toMatchObject({ type: 'FEATURES_REPLY', version: 1, xid: 2 });
  });

  it('Bridge.protocols=OpenFlow10,OpenFlow13 puts a version bitmap in the hello; a 1.3-only peer gets 1.3', async () => {
    const { connect } = await start({ allowedVersions: 0x12 });
    const c = await connect();
    const hello = await c.recv();
    expect(hex(hello!)).toMatch(/^040000100000....00010008000000120?$/);
    c.send(encodeHelloFor(0x10, 1));
    c.send({ type: 'FEATURES_REQUEST', version: 4, xid: 7 });
    expect(await c.recvMsg()).toMatchObject({ type: 'FEATURES_REPLY', version: 4, xid: 7, capabilities: 0x4f, actions: 0, ports: [] });
  });

  it("no common version: OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE with vconn.c's text, then the connection closes", async () => {
    const { connect, log } = await start();
    const c = await connect();
    await c.recv();
    c.send(encodeHelloFor(0x80, 1)); // version 0x07 only
    const err = await c.recvMsg();
    // Version 0x07 has no error numbers: OpenFlow 1.0's are used, in a 1.0 message; xid 0.
    expect(err).toMatchObject({ type: 'ERROR', version: 1, xid: 0, errType: 0, code: 0 });
    expect(err.type === 'ERROR' && Buffer.from(err.data).toString()).toBe('We support version 0x06 and earlier, you support version 0x07, no common versions.');
    expect(await c.recv()).toBeUndefined();
    expect(
      log.some((l) =>
        /^vconn\|WARN\|br\d+<->unix#\d+: version negotiation failed \(we support version 0x06 and earlier, peer supports version 0x07\)$/.test(l),
      ),
    ).toBe(true);
  });

  it('anything but a hello first ends the connection without an answer', async () => {
    const { connect, log } = await start();
    const c = await connect();
    await c.recv();
    c.send(bytes('0105000800000002'));
    expect(await c.recv()).toBeUndefined();
    expect(log.some((l) => l.includes('received message while expecting hello: OFPT_FEATURES_REQUEST (xid=0x2):'))).toBe(true);
  });

  it('a length below 8 ends the connection (received too-short ofp_header)', async () => {
    const { connect, log } = await start();
    const c = await connect();
    await c.handshake();
    c.send(bytes('0102000400000002'));
    expect(await c.recv()).toBeUndefined();
    expect(log).toContain('vconn_stream|ERR|received too-short ofp_header (4 bytes)');
  });
});

describe('requests on an agreed connection', () => {
  it('echo: the payload comes back under the same xid', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    c.send(bytes('0102000c0000abcd' + 'deadbeef'));
    expect(hex((await c.recv())!)).toBe('0103000c0000abcd' + 'deadbeef');
  });

  it('unsupported requests and replies: OFPBRC_BAD_TYPE quoting the whole request', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    const flowMod = bytes('010e0048000000050000' + '00'.repeat(62));
    c.send(flowMod);
    expect(hex((await c.recv())!)).toBe('01010054000000050001' + '0001' + hex(flowMod));
    // A second hello, an error, a features reply: not requests (handle_single_part_openflow()'s default).
    for (const m of ['0100000800000006', '0101000c0000000700010001', '0108000c0000000800000000']) {
      c.send(bytes(m));
      expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', errType: 1, code: 1, data: bytes(m) });
    }
  });

  it('other stats: OFPBRC_BAD_STAT; bad lengths: OFPBRC_BAD_LEN; unknown vendors: OFPBRC_BAD_VENDOR', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    c.send(bytes('0110000c000000090000' + '0000')); // OFPST_DESC request
    expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', xid: 9, errType: 1, code: 2 });
    c.send(bytes('010500090000000a00'));
    expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', xid: 10, errType: 1, code: 6 });
    c.send(bytes('010400100000000b' + '12345678' + '00000000'));
    expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', xid: 11, errType: 1, code: 3 });
  });

  it('a message in another version: OFPBRC_BAD_VERSION in that version; hello/error/echo are let through', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    c.send(bytes('0405000800000003'));
    expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', version: 4, xid: 3, errType: 1, code: 0, data: bytes('0405000800000003') });
    c.send(bytes('0402000800000004'));
    expect(await c.recvMsg()).toMatchObject({ type: 'ECHO_REPLY', version: 4, xid: 4 });
  });

  it('barrier, and switch config: frags per bridge, miss_send_len and invalid_ttl per connection', async () => {
    const { connect, log } = await start();
    const a = await connect();
    await a.handshake();
    a.send({ type: 'GET_CONFIG_REQUEST', version: 1, xid: 1 });
    expect(await a.recvMsg()).toMatchObject({ type: 'GET_CONFIG_REPLY', flags: 0, missSendLen: 0 });
    a.send({ type: 'SET_CONFIG', version: 1, xid: 2, flags: 1 | 4, missSendLen: 128 });
    a.send({ type: 'BARRIER_REQUEST', version: 1, xid: 3 });
    expect(await a.recvMsg()).toEqual({ type: 'BARRIER_REPLY', version: 1, xid: 3 });
    a.send({ type: 'GET_CONFIG_REQUEST', version: 1, xid: 4 });
    expect(await a.recvMsg()).toMatchObject({ type: 'GET_CONFIG_REPLY', xid: 4, flags: 5, missSendLen: 128 });
    // ofproto-dpif refuses reassembly: frags stay "drop".
    a.send({ type: 'SET_CONFIG', version: 1, xid: 5, flags: 2, missSendLen: 128 });
    const b = await connect();
    await b.handshake();
    b.send({ type: 'GET_CONFIG_REQUEST', version: 1, xid: 6 });
    expect(await b.recvMsg()).toMatchObject({ type: 'GET_CONFIG_REPLY', flags: 1, missSendLen: 0 });
    expect(log.some((l) => l.endsWith('unsupported fragment handling mode reassemble'))).toBe(true);
  });

  it('bad set_config flags: OFPSCFC_BAD_FLAGS, which OpenFlow 1.0 can only say as NXBRC_UNENCODABLE_ERROR', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    const set = bytes('0109000c000000070008' + '0080');
    c.send(set);
    // NXET_VENDOR / NXVC_VENDOR_ERROR + nx_vendor_error { NX_VENDOR_ID, 1, 521 } + the request.
    expect(hex((await c.recv())!)).toBe('0101' + '0020' + '00000007' + 'b0c2' + '0000' + '00002320' + '0001' + '0209' + hex(set));
    // OpenFlow 1.3: OFPET_SWITCH_CONFIG_FAILED / OFPSCFC_BAD_FLAGS; OFPC_INVALID_TTL_TO_CONTROLLER is gone from 1.3.
    const d = await connect();
    await d.handshake(0x10);
    const set13 = bytes('0409000c000000080004' + '0080');
    d.send(set13);
    expect(await d.recvMsg()).toMatchObject({ type: 'ERROR', version: 4, xid: 8, errType: 10, code: 0, data: set13 });
  });
});

describe('ports', () => {
  it('features reply: LOCAL and the numbered ports; OpenFlow 1.0 capabilities 0xc7 and actions 0xfff', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake();
    c.send({ type: 'FEATURES_REQUEST', version: 1, xid: 2 });
    const r = await c.recvMsg();
    expect(r).toMatchObject({ type: 'FEATURES_REPLY', datapathId: 0x20000000000fen, nTables: 254, nBuffers: 0, capabilities: 0xc7, actions: 0xfff });
    expect(r.type === 'FEATURES_REPLY' && r.ports.map((p) => [p.portNo, p.name, p.config, p.state])).toEqual([
      [0xfffe, 'br0', 1, 1],
      [1, 'p1', 0, 0],
      [2, 'p2', 0, 0],
    ]);
  });

  it('more ports than a 64 kB features reply holds: the reply keeps 1364, port descriptions come in several replies', async () => {
    const many: OfpPortDesc[] = Array.from({ length: 3000 }, (_, i) => ({
      portNo: i + 1,
      name: `p${i + 1}`,
      hwAddr: new Uint8Array([2, 0, 0, 0, i >> 8, i & 255]),
    }));
    const { connect } = await start({}, many);
    const c = await connect();
    await c.handshake();
    c.send({ type: 'FEATURES_REQUEST', version: 1, xid: 2 });
    const f = await c.recvMsg();
    expect(f.type === 'FEATURES_REPLY' && f.ports.length).toBe(1364);
    c.send({ type: 'PORT_DESC_REQUEST', version: 1, xid: 3, flags: 0 });
    const replies: OfpMessage[] = [];
    for (;;) {
      const m = await c.recvMsg();
      replies.push(m);
      if (m.type !== 'PORT_DESC_REPLY' || !(m.flags & OFPSF_MORE)) break;
    }
    expect(replies.map((m) => (m.type === 'PORT_DESC_REPLY' ? [m.xid, m.flags, m.ports.length] : m.type))).toEqual([
      [3, 1, 1365],
      [3, 1, 1365],
      [3, 0, 270],
    ]);
  });

  it('OpenFlow 1.5 port description of one port; a port number in the gap is OFPBAC_BAD_OUT_PORT', async () => {
    const { connect } = await start({ allowedVersions: 0x40 });
    const c = await connect();
    await c.handshake(0x40);
    c.send({ type: 'PORT_DESC_REQUEST', version: 6, xid: 4, flags: 0, portNo: 0xfffffffe });
    const r = await c.recvMsg();
    expect(r.type === 'PORT_DESC_REPLY' && r.ports.map((p) => decodePhyPort(6, p).name)).toEqual(['br0']);
    c.send({ type: 'PORT_DESC_REQUEST', version: 6, xid: 5, flags: 0, portNo: 0xffff0000 });
    expect(await c.recvMsg()).toMatchObject({ type: 'ERROR', xid: 5, errType: 2, code: 4 });
  });

  it('OpenFlow 1.3 multipart request in two pieces: one answer, after the last piece', async () => {
    const { connect } = await start();
    const c = await connect();
    await c.handshake(0x10);
    c.send({ type: 'PORT_DESC_REQUEST', version: 4, xid: 8, flags: OFPSF_MORE });
    c.send({ type: 'PORT_DESC_REQUEST', version: 4, xid: 8, flags: 0 });
    c.send({ type: 'BARRIER_REQUEST', version: 4, xid: 9 });
    expect((await c.recvMsg()).type).toBe('PORT_DESC_REPLY');
    expect(await c.recvMsg()).toMatchObject({ type: 'BARRIER_REPLY', xid: 9 });
  });
});

describe('connections', () => {
  it('inactivity probe: an echo request (xid 0) after a quiet interval, a disconnect when it goes unanswered', async () => {
    const { connect, log } = await start({ probeIntervalMs: 30 });
    const c = await connect();
    await c.handshake();
    expect(await c.recvMsg()).toEqual({ type: 'ECHO_REQUEST', version: 1, xid: 0, data: new Uint8Array(0) });
    expect(await c.recv()).toBeUndefined();
    expect(log.some((l) => /^rconn\|ERR\|br\d+<->unix#\d+: no response to inactivity probe after 0 seconds, disconnecting$/.test(l))).toBe(true);
  });

  it('thirty clients at once', async () => {
    const { connect, server } = await start();
    const all = await Promise.all(Array.from({ length: 30 }, () => connect()));
    await Promise.all(all.map((c) => c.handshake()));
    all.forEach((c, i) => c.send({ type: 'FEATURES_REQUEST', version: 1, xid: 100 + i }));
    const replies = await Promise.all(all.map((c) => c.recvMsg()));
    expect(replies.map((r) => r.xid)).toEqual(all.map((_, i) => 100 + i));
    expect(server.connectionCount).toBe(30);
  });

  it('replaces a stale socket file when it starts, removes the socket when it stops', async () => {
    const path = join(dir, 'stale.mgmt');
    writeFileSync(path, '');
    const server = await OpenflowMgmtServer.listen(path, { datapathId: () => 1n, ports: () => [] });
    const c = await RawClient.connect(path);
    expect(decodeMessageOrThrow((await c.recv())!).type).toBe('HELLO');
    await server.close();
    expect(await c.recv()).toBeUndefined();
    expect(existsSync(path)).toBe(false);
  });
});
