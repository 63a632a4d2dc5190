/**
 * lib/stream-ssl.c's configuration rules, from its source: the last of
 * --ca-cert/--bootstrap-ca-cert wins; ssl_init()'s three checks and their
 * texts (ENOPROTOOPT); a CA certificate named "none" turns verification off;
 * a bootstrap CA file that does not exist yet is fetched from the peer;
 * --peer-ca-cert follows our certificate in the chain sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SslSettings, sslClientOptions, sslHandleOption, sslInit, sslServerOptions } from './stream-ssl.js';

const dir = mkdtempSync(join(tmpdir(), 'stream-ssl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const key = file('key.pem', 'KEY\n');
const cert = file('cert.pem', 'CERT\n');
const ca = file('ca.pem', 'CA\n');
const peerCa = file('peer-ca.pem', 'PEER-CA\n');

describe('stream-ssl configuration', () => {
  it('takes the options as stream_ssl_handle_option() does: the last CA option wins', () => {
    const s: SslSettings = {};
    for (const [n, v] of [
      ['private-key', key],
      ['certificate', cert],
      ['ca-cert', ca],
      ['bootstrap-ca-cert', '/boot.pem'],
    ] as const) {
      expect(sslHandleOption(s, n, v)).toBe(true);
    }
    expect(s).toEqual({ privateKey: key, certificate: cert, caCert: '/boot.pem', bootstrap: true });
    sslHandleOption(s, 'ca-cert', ca);
    expect(s.bootstrap).toBe(false);
    expect(sslHandleOption(s, 'remote', 'x')).toBe(false);
  });

  it("refuses an incomplete configuration with ssl_init()'s texts, each logged, ENOPROTOOPT", () => {
    const logged: string[] = [];
    expect(() => sslInit({}, (m) => logged.push(m))).toThrow(expect.objectContaining({ code: 'ENOPROTOOPT' }));
    expect(logged).toEqual([
      'Private key must be configured to use SSL',
      'Certificate must be configured to use SSL',
      'CA certificate must be configured to use SSL',
    ]);
  });

  it('verifies peers against the CA; with "none", not at all', () => {
    const ctx = sslInit({ privateKey: key, certificate: cert, caCert: ca });
    expect(String(ctx.options.ca)).toBe('CA\n');
    expect(sslClientOptions(ctx).rejectUnauthorized).toBe(true);
    expect(sslServerOptions(ctx)).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    const none = sslInit({ privateKey: key, certificate: cert, caCert: 'none' });
    expect(none.verifyPeer).toBe(false);
    expect(sslClientOptions(none).rejectUnauthorized).toBe(false);
    expect(sslServerOptions(none)).toMatchObject({ requestCert: false, rejectUnauthorized: false });
  });

  it('bootstraps only a CA file that does not exist yet', () => {
    const missing = join(dir, 'boot.pem');
    const boot = sslInit({ privateKey: key, certificate: cert, caCert: missing, bootstrap: true });
    expect(boot.bootstrapFile).toBe(missing);
    expect(sslClientOptions(boot).rejectUnauthorized).toBe(false);
    expect(sslInit({ privateKey: key, certificate: cert, caCert: ca, bootstrap: true }).bootstrapFile).toBeUndefined();
  });

  it('sends --peer-ca-cert after our certificate', () => {
    const ctx = sslInit({ privateKey: key, certificate: cert, caCert: ca, peerCaCert: peerCa });
    expect(String(ctx.options.cert)).toBe('CERT\n\nPEER-CA\n');
  });

  it('maps --ssl-protocols to a version range, logging unknown names', () => {
    const logged: string[] = [];
    const ctx = sslInit({ privateKey: key, certificate: cert, caCert: ca, protocols: 'TLSv1.2, TLSv1.3,SSLv3' }, (m) => logged.push(m));
    expect(ctx.options).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(logged).toEqual(['SSLv3: SSL protocol not recognized']);
  });
});
