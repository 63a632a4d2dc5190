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
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, type PeerCertificate, type TLSSocket, connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';

/** VLOG_ERR(module, message). */
export type LogErr = (module: string, message: string) => void;

export interface SslOptions {
  privateKey?: string;
  certificate?: string;
  caCert?: string;
  /** --bootstrap-ca-cert=FILE: FILE is the CA certificate; when it does not exist, fetched from the peer. */
  bootstrapCaCert?: string;
  peerCaCert?: string;
}

/** An error as a failed system call reports it (its errno name in `code`). */
function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** "HOST:PORT" (HOST may be [IPv6]) of an active remote. */
function parseActive(name: string, rest: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(rest);
  if (!m) throw errnoError('EINVAL', `${name}: bad peer name format`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** "PORT[:IP]" of a passive remote (IP defaults to every address). */
function parsePassive(rest: string): { port: number; host?: string } {
  const m = /^(\d*)(?::(\[[^\]]+\]|[^:]+))?$/.exec(rest);
  if (!m) throw errnoError('EINVAL', `${rest}: bad port or address`);
  return { port: Number(m[1] || 0), host: m[2]?.replace(/^\[|\]$/g, '') };
}

const toPem = (der: Buffer) =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

/**
 * stream-ssl.c's context: the key and certificate (both required, as
 * "Private key must be configured to use SSL"), and the CA certificate.
 */
function sslContext(ssl: SslOptions, log: LogErr): { key: Buffer; cert: Buffer; bootstrap?: string; ca?: Buffer } {
  const caFile = ssl.caCert ?? ssl.bootstrapCaCert;
  const missing = [
    ssl.privateKey ? '' : 'Private key must be configured to use SSL',
    ssl.certificate ? '' : 'Certificate must be configured to use SSL',
    caFile ? '' : 'CA certificate must be configured to use SSL',
  ].filter(Boolean);
  for (const m of missing) log('stream_ssl', m);
  if (missing.length || !ssl.privateKey || !ssl.certificate || !caFile) throw errnoError('ENOPROTOOPT', missing[0]!);
  const key = readFileSync(ssl.privateKey);
  const cert = readFileSync(ssl.certificate);
  if (ssl.caCert === undefined && !existsSync(caFile)) return { key, cert, bootstrap: caFile };
  return { key, cert, ca: readFileSync(caFile) };
}

/**
 * do_ca_cert_bootstrap(): the top of the peer's chain, if self-signed, becomes
 * the CA certificate file; the connection is then dropped (EPROTO), so that
 * the next one verifies the peer against it.
 */
function bootstrapCaCert(sock: TLSSocket, file: string): NodeJS.ErrnoException {
  let top = sock.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  while (top?.issuerCertificate && top.issuerCertificate !== top && top.issuerCertificate.fingerprint256 !== top.fingerprint256) top = top.issuerCertificate;
  if (!top?.raw || top.issuerCertificate?.fingerprint256 !== top.fingerprint256) {
    return errnoError('EPROTO', "peer's certificate chain top is not self-signed; cannot bootstrap trust");
  }
  try {
    writeFileSync(file, toPem(top.raw), { flag: 'wx' });
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  return errnoError('EPROTO', `successfully bootstrapped CA cert to ${file}`);
}

/** An ssl: connection, verified (against the CA certificate; OVS checks the chain, not the host name), or the bootstrap. */
function sslConnect(name: string, rest: string, ssl: SslOptions, log: LogErr): Promise<Socket> {
  const { host, port } = parseActive(name, rest);
  const ctx = sslContext(ssl, log);
  const opts: ConnectionOptions = {
    host,
    port,
    key: ctx.key,
    cert: ctx.cert,
    ca: ctx.ca,
    rejectUnauthorized: !ctx.bootstrap,
    checkServerIdentity: () => undefined,
  };
  if (/^[A-Za-z]/.test(host) && !host.includes(':')) opts.servername = host;
  return new Promise((resolve, reject) => {
    const sock = tlsConnect(opts);
    sock.once('secureConnect', () => {
      sock.removeListener('error', fail);
      if (!ctx.bootstrap) return resolve(sock);
      const err = bootstrapCaCert(sock, ctx.bootstrap);
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
function listen(name: string, rest: string, ssl: SslOptions, log: LogErr): Promise<{ server: Server; next: () => Promise<Socket> }> {
  const queue: Socket[] = [];
  const waiting: ((s: Socket) => void)[] = [];
  const accept = (s: Socket) => {
    const w = waiting.shift();
    if (w) w(s);
    else queue.push(s);
  };
  let server: Server;
  if (name === 'pssl') {
    const ctx = sslContext(ssl, log);
    server = tlsCreateServer({ key: ctx.key, cert: ctx.cert, ca: ctx.ca, requestCert: true, rejectUnauthorized: !!ctx.ca }, accept);
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
export async function openRemote(db: string, ssl: SslOptions, log: LogErr = () => {}): Promise<OpenedRemote> {
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
