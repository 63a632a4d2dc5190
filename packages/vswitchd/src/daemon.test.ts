/**
 * ovs-vswitchd as OVS's start-up scripts run it: `ovs-vswitchd --pidfile
 * --log-file --detach` returns once the daemon serves, and Debian's real
 * ovs-appctl (no -t: the pid file's lock, $OVS_RUNDIR/ovs-vswitchd.PID.ctl)
 * finds it; a second one refuses to start; exit removes the pid file. The real
 * ovsdb-server is the database and the ovs-kernel daemon the datapath (the
 * Debian packages are installed when missing; without them the test says why).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RealServer, ensureRealOvs, startRealServer } from '@ovs/ovsdb/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const real = ensureRealOvs();
const bin = (pkg: string, name: string) => new URL(`../../${pkg}/bin/${name}.js`, import.meta.url).pathname;

describe.runIf(real.ok)('ovs-vswitchd --pidfile --log-file --detach, found by the real ovs-appctl', () => {
  let dir: string;
  let server: RealServer;
  let env: NodeJS.ProcessEnv;
  const vswitchd = (...args: string[]) =>
    spawnSync(process.execPath, [bin('vswitchd', 'ovs-vswitchd'), `unix:${server.socket}`, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  const appctl = (...args: string[]) => spawnSync('ovs-appctl', args, { env, encoding: 'utf8', timeout: 30_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vswitchd-daemon-'));
    env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir };
    server = await startRealServer(dir);
    execFileSync('ovs-vsctl', [`--db=unix:${server.socket}`, '--no-wait', 'init']);
    execFileSync(process.execPath, [bin('kernel-datapath', 'ovs-kernel'), 'start'], { env, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    if (existsSync(join(dir, 'ovs-vswitchd.pid'))) spawnSync('ovs-appctl', ['exit'], { env, timeout: 10_000 });
    spawnSync(process.execPath, [bin('kernel-datapath', 'ovs-kernel'), 'stop'], { env, timeout: 30_000 });
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns once the daemon serves; the real ovs-appctl finds it by its pid file', () => {
    const started = vswitchd('--pidfile', '--log-file', '--detach');
    expect(started.status, started.stderr).toBe(0);
    const pid = Number(readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8'));
    expect(pid).not.toBe(started.pid);
    // No wait: ready when the command returned.
    const version = appctl('version');
    expect(version.stderr).toBe('');
    expect(version.stdout).toMatch(/^ovs-vswitchd \(Open vSwitch\) \d+\.\d+\.\d+\n$/);
    expect(existsSync(join(dir, `ovs-vswitchd.${pid}.ctl`))).toBe(true);
    expect(readFileSync(join(dir, 'ovs-vswitchd.log'), 'utf8')).toMatch(/\|vlog\|INFO\|opened log file /);
    // vlog/set through the real tool, seen in vlog/list.
    expect(appctl('vlog/set', 'bridge:file:dbg').status).toBe(0);
    expect(appctl('vlog/list').stdout).toMatch(/^bridge +OFF +\S+ +DBG$/m);
  }, 120_000);

  it('a second one with the same pid file refuses to start, as OVS', () => {
    const pid = readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8').trim();
    const second = vswitchd('--pidfile', '--detach');
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`ovs-vswitchd: ${dir}/ovs-vswitchd.pid: already running as pid ${pid}, aborting`);
    expect(appctl('version').status).toBe(0);
  }, 120_000);

  it('ovs-appctl exit: the daemon goes, with its pid file and control socket', async () => {
    const pid = readFileSync(join(dir, 'ovs-vswitchd.pid'), 'utf8').trim();
    expect(appctl('exit').status).toBe(0);
    for (let i = 0; i < 200 && existsSync(join(dir, 'ovs-vswitchd.pid')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'ovs-vswitchd.pid'))).toBe(false);
    expect(existsSync(join(dir, `ovs-vswitchd.${pid}.ctl`))).toBe(false);
    const gone = appctl('version');
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(`ovs-appctl: cannot read pidfile "${dir}/ovs-vswitchd.pid" (No such file or directory)`);
  }, 60_000);
});
