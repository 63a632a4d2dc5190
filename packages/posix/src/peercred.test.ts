/**
 * SO_PEERCRED on both ends of a real unix connection: each side sees the
 * other's pid and effective uid/gid — here this very process (unix(7)); a
 * listening socket has its listener's (net/unix/af_unix.c, unix_listen());
 * a file is ENOTSOCK.
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPeerCred } from './peercred.js';

const dir = mkdtempSync(join(tmpdir(), 'peercred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fdOf = (s: Socket | import('node:net').Server) => (s as unknown as { _handle: { fd: number } })._handle.fd;

describe('getPeerCred', () => {
  it('names the process at the other end of a unix connection', async () => {
    const path = join(dir, 's');
    let accepted: Socket | undefined;
    const server = createServer((s) => {
      accepted = s;
    });
    await new Promise<void>((r) => server.listen(path, r));
    const client = netConnect(path);
    await new Promise<void>((r) => client.once('connect', () => r()));
    while (!accepted) await new Promise((r) => setTimeout(r, 5));
    const me = { pid: process.pid, uid: process.geteuid!(), gid: process.getegid!() };
    expect(getPeerCred(fdOf(accepted))).toEqual(me);
    expect(getPeerCred(fdOf(client))).toEqual(me);
    client.destroy();
    accepted.destroy();
    await new Promise((r) => server.close(r));
  });

  it('names the listener on a listening socket (unix_listen() records it), ENOTSOCK on a file', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(dir, 'l'), r));
    expect(getPeerCred(fdOf(server)).pid).toBe(process.pid);
    await new Promise((r) => server.close(r));
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => getPeerCred(fd)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }));
    } finally {
      closeSync(fd);
    }
  });
});
