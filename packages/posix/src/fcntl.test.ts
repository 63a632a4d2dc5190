/**
 * fcntl() record locks against this machine's kernel: a lock held by another
 * process (a child) is what F_GETLK reports, with that child's pid, and what
 * F_SETLK refuses (EAGAIN or EACCES, POSIX allows both; Linux says EAGAIN).
 * That is what OVS's pidfile code relies on (lib/daemon-unix.c: the daemon
 * holds a write lock on its pidfile; read_pidfile__ asks F_GETLK who holds it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PosixError, getLock, setLock } from './index.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ovs-posix-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'test.pid');
  writeFileSync(file, '');
  return file;
}

function open(file: string, flags: string): number {
  const fd = openSync(file, flags);
  cleanup.push(() => closeSync(fd));
  return fd;
}

/** A child process that takes a lock of `type` on `file` and holds it until killed; resolves once it holds it. */
function holder(file: string, type: 'read' | 'write'): Promise<ChildProcess> {
  const script = `
    import { openSync } from 'node:fs';
    import { setLock } from ${JSON.stringify(dist)};
    const fd = openSync(${JSON.stringify(file)}, 'r+');
    setLock(fd, ${JSON.stringify(type)});
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked\n')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking`)));
  });
}

describe('fcntl record locks', () => {
  it('getLock reports no lock on a file nobody locks', () => {
    const fd = open(tempFile(), 'r+');
    expect(getLock(fd, 'write')).toEqual({ type: 'unlock', pid: 0 });
  });

  it('a write lock held by another process: getLock gives its pid, F_SETLK fails with EAGAIN/EACCES', async () => {
    const file = tempFile();
    const child = await holder(file, 'write');
    const fd = open(file, 'r+');
    expect(getLock(fd, 'write')).toEqual({ type: 'write', pid: child.pid });
    expect(getLock(fd, 'read')).toEqual({ type: 'write', pid: child.pid });
    let caught: unknown;
    try {
      setLock(fd, 'write');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PosixError);
    const e = caught as PosixError;
    expect(e.syscall).toBe('fcntl');
    expect(['EAGAIN', 'EACCES']).toContain(e.code);
    expect(e.errno).toBe(e.code === 'EAGAIN' ? 11 : 13);
    expect(e.message).toMatch(/^fcntl: /);
    expect(() => setLock(fd, 'read')).toThrow(PosixError);
  });

  it('read locks share; a write lock is refused while another process reads', async () => {
    const file = tempFile();
    const child = await holder(file, 'read');
    const fd = open(file, 'r+');
    expect(getLock(fd, 'read')).toEqual({ type: 'unlock', pid: 0 });
    expect(getLock(fd, 'write')).toEqual({ type: 'read', pid: child.pid });
    setLock(fd, 'read');
    expect(() => setLock(fd, 'write')).toThrow(PosixError);
    setLock(fd, 'unlock');
  });

  it('the lock goes when its holder dies: then it can be taken, and a lock of our own blocks nobody here', async () => {
    const file = tempFile();
    const child = await holder(file, 'write');
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    const fd = open(file, 'r+');
    expect(getLock(fd, 'write')).toEqual({ type: 'unlock', pid: 0 });
    setLock(fd, 'write');
    // POSIX locks never conflict with the caller's own.
    expect(getLock(fd, 'write')).toEqual({ type: 'unlock', pid: 0 });
    setLock(fd, 'unlock');
  });

  it('F_SETLKW waits for nothing when the lock is free', () => {
    const fd = open(tempFile(), 'r+');
    setLock(fd, 'write', true);
    setLock(fd, 'unlock');
  });

  it('errors of the call itself: EBADF for a closed fd; EBADF for a write lock on a read-only fd', () => {
    expect(() => getLock(1 << 20, 'write')).toThrow(expect.objectContaining({ code: 'EBADF', errno: 9, syscall: 'fcntl' }));
    const ro = open(tempFile(), 'r');
    expect(() => setLock(ro, 'write')).toThrow(expect.objectContaining({ code: 'EBADF', errno: 9 }));
  });

  it('misuse is a TypeError, not a crash', () => {
    expect(() => setLock('x' as unknown as number, 'write')).toThrow(TypeError);
    expect(() => setLock(0, 'exclusive' as 'write')).toThrow(TypeError);
  });
});
