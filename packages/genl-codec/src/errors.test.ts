/**
 * The error classes recognise each other's errors across copies of the
 * package: the ESM and the CJS builds (dist/, built before the tests run)
 * loaded in one process, and the source the other tests use.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as src from './errors.js';

const require = createRequire(import.meta.url);
type Root = typeof import('./index.js');
type Unix = typeof import('./transport/unix.js');

const esm = (await import(new URL('../dist/index.js', import.meta.url).href)) as Root;
const cjs = require('../dist/index.cjs') as Root;
const esmUnix = (await import(new URL('../dist/transport/unix.js', import.meta.url).href)) as Unix;
const cjsUnix = require('../dist/transport/unix.cjs') as Unix;

describe('errors across package copies', () => {
  it('the two builds really are two copies: instanceof does not cross them', () => {
    expect(cjs.NetlinkErrnoError).not.toBe(esm.NetlinkErrnoError);
    expect(new cjs.NetlinkErrnoError(2)).not.toBeInstanceOf(esm.NetlinkErrnoError);
  });

  it('isInstance recognises each class in every copy', () => {
    const copies = [esm, cjs, src];
    for (const a of copies) {
      for (const b of copies) {
        expect(a.NetlinkErrnoError.isInstance(new b.NetlinkErrnoError(-19, 'no device'))).toBe(true);
        expect(a.NetlinkDecodeError.isInstance(new b.NetlinkDecodeError(4, 'truncated'))).toBe(true);
        expect(a.NetlinkEncodeError.isInstance(new b.NetlinkEncodeError('attrs.mtu', 'out of range'))).toBe(true);
      }
    }
  });

  it('isInstance tells the classes apart, and refuses what is not an error of theirs', () => {
    expect(esm.NetlinkErrnoError.isInstance(new cjs.NetlinkDecodeError(0, 'x'))).toBe(false);
    expect(cjs.NetlinkDecodeError.isInstance(new esm.NetlinkEncodeError('', 'x'))).toBe(false);
    for (const x of [new Error('ENODEV'), { errno: 19 }, null, undefined, 19, 'NetlinkErrnoError']) {
      expect(esm.NetlinkErrnoError.isInstance(x)).toBe(false);
    }
  });

  it('the unix transport errors too, and a connection error is a NetlinkErrnoError of any copy', () => {
    const lost = new cjsUnix.UnixNetlinkConnectionError(104, 'connection reset');
    expect(esmUnix.UnixNetlinkConnectionError.isInstance(lost)).toBe(true);
    expect(esm.NetlinkErrnoError.isInstance(lost)).toBe(true);
    expect(cjs.NetlinkErrnoError.isInstance(lost)).toBe(true);
    expect(src.NetlinkErrnoError.isInstance(lost)).toBe(true);
    expect(esmUnix.UnixNetlinkConnectionError.isInstance(new esm.NetlinkErrnoError(104))).toBe(false);
    expect(cjsUnix.UnixFrameError.isInstance(new esmUnix.UnixFrameError('bad frame'))).toBe(true);
    expect(esmUnix.UnixFrameError.isInstance(new Error('bad frame'))).toBe(false);
  });
});
