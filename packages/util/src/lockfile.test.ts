/**
 * lib/lockfile.c's behaviour, from its source: the lock file's name beside
 * the file a symlink leads to; a second lock of the same file refused with
 * EAGAIN (in this process: "has already locked it"; from another process:
 * "already locked by pid N", the fcntl lock seen across processes); the lock
 * file left in place after unlock, and lockable again.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Lockfile, lockfileName } from './lockfile.js';

const dir = mkdtempSync(join(tmpdir(), 'lockfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockfile', () => {
  it('names .NAME.~lock~ beside the file a symlink leads to', () => {
    expect(lockfileName('db')).toBe('.db.~lock~');
    expect(lockfileName('/a/b/db')).toBe('/a/b/.db.~lock~');
    mkdirSync(join(dir, 'real'));
    symlinkSync('real/db', join(dir, 'db'));
    expect(lockfileName(join(dir, 'db'))).toBe(join(dir, 'real', '.db.~lock~'));
  });

  it('refuses a second lock, here and from another process, and leaves the lock file', () => {
    const file = join(dir, 'x.db');
    const warnings: string[] = [];
    const lock = Lockfile.lock(file);
    expect(existsSync(join(dir, '.x.db.~lock~'))).toBe(true);
    expect(() => Lockfile.lock(file, (w) => warnings.push(w))).toThrow(expect.objectContaining({ code: 'EAGAIN' }));
    expect(warnings).toEqual([`${join(dir, '.x.db.~lock~')}: cannot lock file because this process has already locked it`]);
    // Another process: the fcntl lock (when @ovs/posix's addon loads here) names this one.
    const other = execFileSync(
      process.execPath,
      [
        '-e',
        `const { Lockfile } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.cjs'))});
         try { Lockfile.lock(${JSON.stringify(file)}, (w) => console.log(w)); console.log('locked'); } catch (e) { console.log(e.code); }`,
      ],
      { encoding: 'utf8' },
    );
    expect(other).toBe(`${join(dir, '.x.db.~lock~')}: cannot lock file because it is already locked by pid ${process.pid}\nEAGAIN\n`);
    lock.unlock();
    expect(existsSync(join(dir, '.x.db.~lock~'))).toBe(true);
    Lockfile.lock(file).unlock();
  });
});
