/**
 * lib/stream-ssl.c's configuration, shared by every SSL-capable OVS program
 * (ovs-vsctl, ovsdb-server, ...): the option table (STREAM_SSL_LONG_OPTIONS
 * and the --peer-ca-cert and --bootstrap-ca-cert options beside it), the
 * context ssl_init() requires (key, certificate, CA certificate), and the CA
 * certificate bootstrap of do_ca_cert_bootstrap(). Connections themselves are
 * Node's TLS sockets made with the options returned here.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ConnectionOptions, PeerCertificate, SecureContextOptions, SecureVersion, TLSSocket, TlsOptions } from 'node:tls';
import type { LongOption } from './command-line.js';
import { OvsError } from './strerror.js';

export const STREAM_SSL_LONG_OPTIONS: readonly LongOption[] = [
  { name: 'private-key', arg: 'required', short: 'p' },
  { name: 'certificate', arg: 'required', short: 'c' },
  { name: 'ca-cert', arg: 'required', short: 'C' },
  { name: 'ssl-protocols', arg: 'required' },
  { name: 'ssl-ciphers', arg: 'required' },
  { name: 'peer-ca-cert', arg: 'required' },
  { name: 'bootstrap-ca-cert', arg: 'required' },
];

/** What the SSL options name: files, as stream_ssl_set_*() take them. */
export interface SslSettings {
  privateKey?: string;
  certificate?: string;
  /** The CA certificate file (--ca-cert, or --bootstrap-ca-cert with `bootstrap`); "none": peers not verified. */
  caCert?: string;
  /** --bootstrap-ca-cert: when `caCert` does not exist, it is fetched from the peer. */
  bootstrap?: boolean;
  /** --peer-ca-cert: sent to the peer after our certificate, so that it can bootstrap. */
  peerCaCert?: string;
  /** --ssl-protocols: e.g. "TLSv1.2,TLSv1.3". */
  protocols?: string;
  /** --ssl-ciphers: an OpenSSL cipher list. */
  ciphers?: string;
}

/**
 * stream_ssl_handle_option(): the setting an SSL option sets, or false if
 * `name` is not one. The last of --ca-cert and --bootstrap-ca-cert wins.
 */
export function sslHandleOption(s: SslSettings, name: string, value: string | undefined): boolean {
  switch (name) {
    case 'private-key':
      s.privateKey = value;
      return true;
    case 'certificate':
      s.certificate = value;
      return true;
    case 'ca-cert':
      s.caCert = value;
      s.bootstrap = false;
      return true;
    case 'bootstrap-ca-cert':
      s.caCert = value;
      s.bootstrap = true;
      return true;
    case 'peer-ca-cert':
      s.peerCaCert = value;
      return true;
    case 'ssl-protocols':
      s.protocols = value;
      return true;
    case 'ssl-ciphers':
      s.ciphers = value;
      return true;
    default:
      return false;
  }
}

/** The context an SSL stream is made with: Node's TLS options, and the file a bootstrap writes. */
export interface SslContext {
  options: SecureContextOptions;
  /** Set when the CA certificate is to be bootstrapped from the peer into this file. */
  bootstrapFile?: string;
  /** False with the CA certificate "none": peers' certificates are not checked. */
  verifyPeer: boolean;
}

const PROTOCOLS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * ssl_init(): the key, certificate and CA certificate, all required (each
 * missing one logged as stream-ssl.c words it, the error ENOPROTOOPT), read
 * from their files now; a CA certificate that does not exist yet with
 * `bootstrap` set means trusting the peer's CA once, into that file.
 */
export function sslInit(s: SslSettings, logErr: (message: string) => void = () => {}): SslContext {
  const missing = [
    s.privateKey ? '' : 'Private key must be configured to use SSL',
    s.certificate ? '' : 'Certificate must be configured to use SSL',
    s.caCert ? '' : 'CA certificate must be configured to use SSL',
  ].filter(Boolean);
  for (const m of missing) logErr(m);
  if (missing.length || !s.privateKey || !s.certificate || !s.caCert) throw new OvsError(missing[0]!, 'ENOPROTOOPT');
  const read = (file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      logErr(`${file}: ${(e as Error).message}`);
      throw new OvsError(`${file}: could not be read`, 'ENOPROTOOPT');
    }
  };
  // stream_ssl_set_peer_ca_cert_file(): an extra certificate of our chain.
  const cert = s.peerCaCert ? Buffer.concat([read(s.certificate), Buffer.from('\n'), read(s.peerCaCert)]) : read(s.certificate);
  const options: SecureContextOptions = { key: read(s.privateKey), cert };
  if (s.protocols) {
    const wanted = s.protocols.split(/[\s,]+/).filter(Boolean);
    for (const w of wanted) if (!PROTOCOLS.includes(w as SecureVersion)) logErr(`${w}: SSL protocol not recognized`);
    const known = PROTOCOLS.filter((p) => wanted.includes(p));
    if (known.length) {
      options.minVersion = known[0];
      options.maxVersion = known[known.length - 1];
    }
  }
  if (s.ciphers) options.ciphers = s.ciphers;
  if (s.caCert === 'none') return { options, verifyPeer: false };
  if (s.bootstrap && !existsSync(s.caCert)) return { options, bootstrapFile: s.caCert, verifyPeer: true };
  return { options: { ...options, ca: read(s.caCert) }, verifyPeer: true };
}

/** The options of a client connection: the peer verified against the CA (OVS checks the chain, not the host name). */
export function sslClientOptions(ctx: SslContext): ConnectionOptions {
  return { ...ctx.options, rejectUnauthorized: ctx.verifyPeer && !ctx.bootstrapFile, checkServerIdentity: () => undefined };
}

/** The options of a listener: each peer must present a certificate that the CA signed (SSL_VERIFY_FAIL_IF_NO_PEER_CERT). */
export function sslServerOptions(ctx: SslContext): TlsOptions {
  return { ...ctx.options, requestCert: ctx.verifyPeer, rejectUnauthorized: ctx.verifyPeer && !ctx.bootstrapFile };
}

const toPem = (der: Buffer) =>
  `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END CERTIFICATE-----\n`;

/**
 * do_ca_cert_bootstrap(): the top of the peer's chain, which must be
 * self-signed, is written to `file` (created, never overwritten). The error
 * returned is what the connection then fails with: EPROTO even on success, so
 * that the next connection verifies the peer against the new CA certificate.
 */
export function doCaCertBootstrap(sock: TLSSocket, file: string, logInfo: (message: string) => void = () => {}): NodeJS.ErrnoException {
  let top = sock.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  while (top?.issuerCertificate && top.issuerCertificate !== top && top.issuerCertificate.fingerprint256 !== top.fingerprint256) top = top.issuerCertificate;
  if (!top?.raw || top.issuerCertificate?.fingerprint256 !== top.fingerprint256) {
    return new OvsError("peer's certificate chain top is not self-signed; cannot bootstrap trust", 'EPROTO');
  }
  try {
    writeFileSync(file, toPem(top.raw), { flag: 'wx' });
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  logInfo(`successfully bootstrapped CA cert to ${file}`);
  return new OvsError(`successfully bootstrapped CA cert to ${file}`, 'EPROTO');
}
