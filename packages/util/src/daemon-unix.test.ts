// lib/daemon-unix.c as OVS 3.1 behaves, through test/test-unixctl.mjs (OVS's tests/test-unixctl.c
// over this package's built dist: run `pnpm --filter @ovs/util build` first). The references: OVS's
// tests/daemon.at and tests/vlog.at, Debian's real ovsdb-server 3.1.0's texts for the same
// mistakes, and Debian's real ovs-appctl 3.1.0, which must find the daemon by its pid file.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPidfile } from './daemon-unix.js';
import { unixctlTargetSocket, unixctlTransact } from './unixctl.js';

const FIXTURE = join(__dirname, '..', 'test', 'test-unixctl.mjs');
const REAL_APPCTL = ['/usr/bin/ovs-appctl', '/usr/local/bin/ovs-appctl'].find((p) => existsSync(p));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let env: NodeJS.ProcessEnv;
const pidfile = () => join(dir, 'test-unixctl.pid');
const daemon = (...args: string[]) => run(process.execPath, [FIXTURE, ...args], env, dir);

/** `ovs-appctl -t TARGET CMD ARGS`: the real one when installed, else the same lookup and protocol by this package. */
async function appctl(target: string, cmd: string, ...args: string[]): Promise<Result> {
  if (REAL_APPCTL) return run(REAL_APPCTL, ['-t', target, cmd, ...args], env, dir);
  try {
    return { code: 0, stdout: await unixctlTransact(unixctlTargetSocket(target, env), cmd, args), stderr: '' };
  } catch (err) {
    const msg = (err as Error).message;
    if ((err as Error).name === 'UnixctlError') return { code: 2, stdout: '', stderr: `${msg}ovs-appctl: ${target}: server returned an error\n` };
    return { code: 1, stdout: '', stderr: `ovs-appctl: ${msg}\n` };
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Polls `cond` every 50 ms, for at most 15 s. */
async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(cond()).toBe(true);
}

const pids: number[] = [];
const readPid = () => {
  const pid = Number(readFileSync(pidfile(), 'utf8'));
  pids.push(pid);
  return pid;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'daemon-'));
  env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir };
  delete env.OVS_TS_DAEMON_ROLE;
});

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('--detach --pidfile (daemonize_start / daemonize_complete / make_pidfile)', () => {
  it('returns once the daemon is ready; the real ovs-appctl finds it by its locked pid file; exit removes pid file and socket', async () => {
    const r = await daemon(`--log-file=${join(dir, 'log')}`, '--pidfile', '--detach', '--no-chdir', '--ready-delay=300');
    expect(r.code).toBe(0);
    // vlog.at: what the foreground process printed is the "opened log file" line alone.
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(/\|00001\|vlog\|INFO\|opened log file .*\/log$/)]);
    const pid = readPid();
    expect(readFileSync(pidfile(), 'utf8')).toBe(`${pid}\n`);
    expect(readPidfile(pidfile())).toBe(pid);
    // Ready means serving: no waiting here.
    expect(await appctl('test-unixctl', 'echo', 'hello')).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    expect((await appctl('test-unixctl', 'version')).stdout).toBe('test-unixctl (Open vSwitch) 3.1.0\n');
    // vlog.at: a detached daemon's console is OFF.
    const list = (await appctl('test-unixctl', 'vlog/list')).stdout.split('\n');
    expect(list.slice(0, 2)).toEqual(['                 console    syslog    file', '                 -------    ------    ------']);
    expect(list).toContain('test_unixctl       OFF       INFO       INFO');
    // In a new session, its own process group leader.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(Number(stat[3])).toBe(pid); // session id
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(dir); // --no-chdir
    expect(await appctl('test-unixctl', 'echo_error', 'oops')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'oops\novs-appctl: test-unixctl: server returned an error\n',
    });
    expect(await appctl('test-unixctl', 'exit')).toEqual({ code: 0, stdout: '', stderr: '' });
    await waitUntil(() => !alive(pid));
    expect(existsSync(pidfile())).toBe(false);
    expect(existsSync(join(dir, `test-unixctl.${pid}.ctl`))).toBe(false);
    // The log: one "opened log file" (the foreground process's), numbering carried on in the daemon.
    const log = readFileSync(join(dir, 'log'), 'utf8').split('\n').filter(Boolean);
    expect(log.map((l) => l.split('|').slice(1).join('|'))).toEqual([
      `00001|vlog|INFO|opened log file ${join(dir, 'log')}`,
      '00002|test_unixctl|INFO|Entering run loop.',
    ]);
  }, 30_000);

  it('without --no-chdir the daemon works in /', async () => {
    expect((await daemon('--pidfile', '--detach')).code).toBe(0);
    const pid = readPid();
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    await appctl('test-unixctl', 'exit');
    await waitUntil(() => !alive(pid));
  }, 30_000);

  it('a second daemon with the same pid file refuses to start: "already running as pid N, aborting", exit 1', async () => {
    expect((await daemon('--pidfile', '--detach', '--no-chdir')).code).toBe(0);
    const pid = readPid();
    const msg = `test-unixctl: ${pidfile()}: already running as pid ${pid}, aborting\n`;
    expect(await daemon('--pidfile', '--detach', '--no-chdir', '-vconsole:off')).toEqual({ code: 1, stdout: '', stderr: msg });
    expect(await daemon('--pidfile', '--no-chdir', '-vconsole:off')).toEqual({ code: 1, stdout: '', stderr: msg });
    // --overwrite-pidfile takes it over.
    const over = await daemon('--pidfile', '--overwrite-pidfile', '--detach', '--no-chdir', '--unixctl=second.ctl');
    expect(over.code).toBe(0);
    const pid2 = readPid();
    expect(pid2).not.toBe(pid);
    expect(readPidfile(pidfile())).toBe(pid2);
    expect((await appctl(join(dir, 'second.ctl'), 'echo', 'two')).stdout).toBe('two\n');
  }, 30_000);

  it('a stale pid file (its process gone, nobody holding its lock): ESRCH for read_pidfile and ovs-appctl; a daemon replaces it', async () => {
    writeFileSync(pidfile(), '999999\n');
    expect(() => readPidfile(pidfile())).toThrow(expect.objectContaining({ code: 'ESRCH', message: 'No such process' }));
    expect(await appctl('test-unixctl', 'version')).toEqual({
      code: 1,
      stdout: '',
      stderr: `ovs-appctl: cannot read pidfile "${pidfile()}" (No such process)\n`,
    });
    // A live pid in a file nobody locks is stale as well: the lock is what counts.
    writeFileSync(pidfile(), `${process.pid}\n`);
    expect(() => readPidfile(pidfile())).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect((await daemon('--pidfile', '--detach', '--no-chdir')).code).toBe(0);
    const pid = readPid();
    expect(readPidfile(pidfile())).toBe(pid);
    expect(() => readPidfile(join(dir, 'nope.pid'))).toThrow(expect.objectContaining({ code: 'ENOENT', message: 'No such file or directory' }));
    // (the real ovs-appctl logs read_pidfile()'s "open:" warning on its console first)
    const nope = await appctl('nope', 'version');
    expect(nope.code).toBe(1);
    expect(nope.stderr.endsWith(`ovs-appctl: cannot read pidfile "${join(dir, 'nope.pid')}" (No such file or directory)\n`)).toBe(true);
  }, 30_000);

  it('a daemon that fails before it is ready: the foreground process exits with its status, its output passed on', async () => {
    expect(await daemon('--pidfile', '--detach', '--no-chdir', '--fail-before-ready=3')).toEqual({
      code: 3,
      stdout: '',
      stderr: 'test-unixctl: failing before ready as asked\n',
    });
  }, 30_000);
});

describe('option errors (the texts of the real ovsdb-server 3.1.0 for the same options)', () => {
  it('getopt_long, -v specs, --log-file, --syslog-method', async () => {
    expect(await daemon('--bogus')).toEqual({ code: 1, stdout: '', stderr: "test-unixctl: unrecognized option '--bogus'\n" });
    expect(await daemon('-vbogus')).toEqual({ code: 1, stdout: '', stderr: 'test-unixctl: processing "bogus": no destination, level, or module "bogus"\n' });
    expect(await daemon('-vconsole:file')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'test-unixctl: processing "console:file": cannot specify multiple destinations\n',
    });
    expect(await daemon('--syslog-method=foo')).toEqual({ code: 1, stdout: '', stderr: "test-unixctl: unsupported syslog method 'foo'\n" });
    const r = await daemon('--log-file=/nonexistent/x.log');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|00001\|vlog\|WARN\|failed to open \/nonexistent\/x\.log for logging: No such file or directory\n$/,
    );
    if (process.getuid?.() !== 0) expect((await daemon('--user=nobody')).stderr).toBe('test-unixctl: (null): only root can use --user option\n');
    else
      expect((await daemon('--pidfile', '--user=no-such-user-here')).stderr).toBe(`test-unixctl: ${pidfile()}: user no-such-user-here not found, aborting.\n`);
  }, 30_000);
});

describe('--user', () => {
  it('as root: the daemon (run again for --detach) is that user; as anyone else: "only root can use --user option"', async () => {
    if (process.getuid?.() !== 0) {
      expect(await daemon('--pidfile', '--user=nobody')).toEqual({
        code: 1,
        stdout: '',
        stderr: `test-unixctl: ${pidfile()}: only root can use --user option\n`,
      });
      return;
    }
    chmodSync(dir, 0o777); // for the pid file and socket of the user it becomes
    const nobody = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === 'nobody')!;
    expect((await daemon('--pidfile', '--detach', '--no-chdir', '--user=nobody')).code).toBe(0);
    const pid = readPid();
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))!;
    expect([uids[1], uids[2]]).toEqual([nobody[2], nobody[2]]);
    expect((await appctl('test-unixctl', 'exit')).code).toBe(0);
    await waitUntil(() => !alive(pid));
    expect(existsSync(pidfile())).toBe(false);
  }, 30_000);
});

describe('--monitor (monitor_daemon(), tests/daemon.at "daemon --monitor")', () => {
  it('restarts the daemon after SIGSEGV, exits with it after SIGTERM, logging as OVS does', async () => {
    const log = join(dir, 'log');
    expect((await daemon('--monitor', '--pidfile', '--detach', '--no-chdir', `--log-file=${log}`)).code).toBe(0);
    const child = readPid();
    const monitor = Number(readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    pids.push(monitor);
    // daemon.at's check_process_name: both named after the program, not "node".
    expect(readFileSync(`/proc/${monitor}/comm`, 'utf8')).toBe('test-unixctl\n');
    expect(readFileSync(`/proc/${child}/comm`, 'utf8')).toBe('test-unixctl\n');
    expect((await appctl('test-unixctl', 'version')).code).toBe(0);
    process.kill(child, 'SIGSEGV');
    await waitUntil(() => existsSync(pidfile()) && readFileSync(pidfile(), 'utf8') !== `${child}\n` && readFileSync(pidfile(), 'utf8') !== '');
    const child2 = readPid();
    expect(Number(readFileSync(`/proc/${child2}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])).toBe(monitor);
    await waitUntil(() => existsSync(join(dir, `test-unixctl.${child2}.ctl`)));
    expect((await appctl('test-unixctl', 'echo', 'again')).stdout).toBe('again\n');
    process.kill(child2, 'SIGTERM');
    await waitUntil(() => !alive(child2) && !alive(monitor));
    expect(existsSync(pidfile())).toBe(false);
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .map((l) => l.split('|').slice(2).join('|'));
    expect(lines).toContain(`daemon_unix(monitor)|ERR|1 crashes: pid ${child} died, killed (Segmentation fault), restarting`);
    expect(lines).toContain(`daemon_unix(monitor)|INFO|pid ${child2} died, killed (Terminated), exiting`);
    expect(lines.filter((l) => l === 'test_unixctl|INFO|Entering run loop.')).toHaveLength(2);
  }, 40_000);
});
