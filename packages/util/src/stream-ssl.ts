/**
 * lib/stream-ssl.h's option table: STREAM_SSL_LONG_OPTIONS and the
 * --peer-ca-cert and --bootstrap-ca-cert options every SSL-capable OVS
 * program adds beside it (ovs-vsctl, ovsdb-server, ...).
 */
import type { LongOption } from './command-line.js';

export const STREAM_SSL_LONG_OPTIONS: readonly LongOption[] = [
  { name: 'private-key', arg: 'required', short: 'p' },
  { name: 'certificate', arg: 'required', short: 'c' },
  { name: 'ca-cert', arg: 'required', short: 'C' },
  { name: 'ssl-protocols', arg: 'required' },
  { name: 'ssl-ciphers', arg: 'required' },
  { name: 'peer-ca-cert', arg: 'required' },
  { name: 'bootstrap-ca-cert', arg: 'required' },
];
