/**
 * The remotes ovs-vsctl's --db names beyond what the @ovs/ovsdb client opens
 * itself (unix:PATH, tcp:IP:PORT): lib/stream-ssl.c's `ssl:HOST:PORT` (with
 * --private-key, --certificate, --ca-cert and --bootstrap-ca-cert), and the
 * passive `punix:PATH`, `ptcp:PORT[:IP]`, `pssl:PORT[:IP]` of
 * lib/stream.c/pstream, where ovs-vsctl listens and the database server
 * connects to it. Each is bridged to the IDL through a private Unix socket:
 * the IDL connects there, and each of its connections is piped to a TLS
 * connection or to the next connection accepted on the passive remote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import { OvsError, type SslSettings, doCaCertBootstrap, sslClientOptions, sslInit, sslServerOptions } from '@ovs/util';

/** VLOG_ERR(module, message). */
export type LogErr = (module: string, message: string) => void;

/** "HOST:PORT" (HOST may be [IPv6]) of an active remote. */
function parseActive(name: string, rest: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(rest);
  if (!m) throw new OvsError(`${name}: bad peer name format`, 'EINVAL');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** "PORT[:IP]" of a passive remote (IP defaults to every address). */
function parsePassive(rest: string): { port: number; host?: string } {
  const m = /^(\d*)(?::(\[[^\]]+\]|[^:]+))?$/.exec(rest);
  if (!m) throw new OvsError(`${rest}: bad port or address`, 'EINVAL');
  return { port: Number(m[1] || 0), host: m[2]?.replace(/^\[|\]$/g, '') };
}

/** An ssl: connection, verified (against the CA certificate; OVS checks the chain, not the host name), or the bootstrap. */
function sslConnect(name: string, rest: string, ssl: SslSettings, log: LogErr): Promise<Socket> {
  const { host, port } = parseActive(name, rest);
  const ctx = sslInit(ssl, (m) => log('stream_ssl', m));
  const opts: ConnectionOptions = { host, port, ...sslClientOptions(ctx) };
  if (/^[A-Za-z]/.test(host) && !host.includes(':')) opts.servername = host;
  return new Promise((resolve, reject) => {
    const sock = tlsConnect(opts);
    sock.once('secureConnect', () => {
      sock.removeListener('error', fail);
      if (!ctx.bootstrapFile) return resolve(sock);
      const err = doCaCertBootstrap(sock, ctx.bootstrapFile);
      sock.destroy();
      reject(err);
    });
    const fail = (e: NodeJS.ErrnoException) => {
      // TLS failures (verification, handshake) are EPROTO to OVS.
      if (!e.code || !/^E[A-Z]+$/.test(e.code)) e.code = 'EPROTO';
      reject(e);
    };
    sock.once('error', fail);
  });
}

/** A pstream: listening; each call of next() is the next connection accepted. */
function listen(name: string, rest: string, ssl: SslSettings, log: LogErr): Promise<{ server: Server; next: () => Promise<Socket> }> {
  const queue: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const accept = (s: Socket) => {
    const w = waiting.shift();
    if (w) w(s);
    else queue.push(s);
  };
  let server: Server;
  if (name === 'pssl') {
    server = tlsCreateServer(sslServerOptions(sslInit(ssl, (m) => log('stream_ssl', m))), accept);
  } else server = createServer(accept);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.removeListener('error', reject);
      resolve({
        server,
        next: () => {
          const s = queue.shift();
          return s ? Promise.resolve(s) : new Promise((r) => waiting.push(r));
        },
      });
    };
    if (name === 'punix') {
      rmSync(rest, { force: true });
      server.listen(rest, ready);
    } else {
      const { port, host } = parsePassive(rest);
      server.listen(port, host, ready);
    }
  });
}

export interface OpenedRemote {
  /** What the IDL connects to. */
  remote: string;
  close(): void;
}

/**
 * stream_open()/pstream_open() of a --db remote: unix: and tcp: as they are;
 * the others bridged through a private socket. An active ssl: remote is
 * connected before this returns, so its failure is the connection's.
 */
export async function openRemote(db: string, ssl: SslSettings, log: LogErr = () => {}): Promise<OpenedRemote> {
  const colon = db.indexOf(':');
  const name = colon < 0 ? db : db.slice(0, colon);
  const rest = colon < 0 ? '' : db.slice(colon + 1);
  let peer: () => Promise<Socket>;
  let closePeer = () => {};
  if (name === 'ssl') {
    let first: Socket | undefined = await sslConnect(name, rest, ssl, log);
    peer = () => {
      const s = first;
      first = undefined;
      return s ? Promise.resolve(s) : sslConnect(name, rest, ssl, log);
    };
  } else if (name === 'punix' || name === 'ptcp' || name === 'pssl') {
    const { server, next } = await listen(name, rest, ssl, log);
    peer = next;
    closePeer = () => {
      server.close();
      if (name === 'punix') rmSync(rest, { force: true });
    };
  } else return { remote: db, close: () => {} };

  const dir = mkdtempSync(join(tmpdir(), 'ovs-vsctl-'));
  const path = join(dir, 'idl.sock');
  const sockets = new Set<Socket>();
  const bridge = createServer((idlSide) => {
    sockets.add(idlSide);
    idlSide.on('close', () => sockets.delete(idlSide));
    peer().then(
      (remoteSide) => {
        sockets.add(remoteSide);
        remoteSide.on('close', () => sockets.delete(remoteSide));
        idlSide.pipe(remoteSide);
        remoteSide.pipe(idlSide);
        idlSide.on('error', () => remoteSide.destroy());
        remoteSide.on('error', () => idlSide.destroy());
        idlSide.on('close', () => remoteSide.destroy());
        remoteSide.on('close', () => idlSide.destroy());
      },
      () => idlSide.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    bridge.once('error', reject);
    bridge.listen(path, () => resolve());
  });
  return {
    remote: `unix:${path}`,
    close: () => {
      for (const s of sockets) s.destroy();
      bridge.close();
      closePeer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
