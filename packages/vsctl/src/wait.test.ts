/**
 * The waiting path: without --no-wait, ovs-vsctl increments next_cfg and
 * waits until ovs-vswitchd has caught up (cur_cfg ≥ next_cfg), then reports
 * the interfaces it added that ovs-vswitchd could not set up — exit status
 * still 0. A small fake "vswitchd" (an IDL client) plays ovs-vswitchd. With
 * --timeout and no vswitchd, the process dies of SIGALRM (shell status 142)
 * after the real tool's log line; checked in-process, through our bin and
 * against the real ovs-vsctl.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Idl } from '@ovs/ovsdb';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureRealOvs, run as spawnRun } from '@ovs/ovsdb/testing';
import { run } from './cli.js';
import { type Served, dumpDb, normaliseStderr, startOurServer } from './testing.js';

/** Reconfigures on every next_cfg change: ofport for good interfaces, ofport -1 (+ error) for names starting "bad"/"silent". */
async function fakeVswitchd(remote: string): Promise<Idl> {
  const idl = await Idl.open({ remote, tables: { Open_vSwitch: ['next_cfg', 'cur_cfg'], Interface: ['name', 'ofport', 'error'] }, reconnect: false });
  let busy = false;
  let ofport = 0;
  const reconfigure = async () => {
    const ovs = idl.first('Open_vSwitch');
    if (busy || !ovs) return;
    const next = ovs.get('next_cfg') as number;
    if ((ovs.get('cur_cfg') as number) >= next) return;
    busy = true;
    const txn = idl.transaction();
    for (const i of idl.rows('Interface')) {
      if (i.get('ofport') !== null) continue;
      const name = i.get('name') as string;
      if (name.startsWith('bad')) txn.update(i, { ofport: -1, error: `could not open network device ${name} (No such device)` });
      else if (name.startsWith('silent')) txn.update(i, { ofport: -1 });
      else txn.update(i, { ofport: ++ofport });
    }
    txn.update(ovs, { cur_cfg: next });
    await txn.commit();
    busy = false;
    void reconfigure();
  };
  idl.onChange(() => void reconfigure());
  void reconfigure();
  return idl;
}

const ENV = { ...process.env, OVS_LOGDIR: '/var/log/test-ovs' };
let server: Served;
const vsctl = (...args: string[]) => run([`--db=${server.remote}`, ...args], { env: ENV });

beforeEach(async () => {
  server = await startOurServer();
});
afterEach(async () => {
  await server.close();
});

describe('waiting for ovs-vswitchd', () => {
  it('waits for cur_cfg, then reports interfaces that failed, exit status 0', async () => {
    const vswitchd = await fakeVswitchd(server.remote);
    try {
      expect(await vsctl('add-br', 'br0')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(await vsctl('add-port', 'br0', 'ok0')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(await vsctl('add-port', 'br0', 'bad0', '--', 'add-port', 'br0', 'silent0', '--', 'list-ports', 'br0')).toEqual({
        status: 0,
        stdout: 'bad0\nok0\nsilent0\n',
        stderr:
          "ovs-vsctl: Error detected while setting up 'bad0': could not open network device bad0 (No such device).  See ovs-vswitchd log for details.\n" +
          "ovs-vsctl: Error detected while setting up 'silent0'.  See ovs-vswitchd log for details.\n" +
          'ovs-vsctl: The default log directory is "/var/log/test-ovs".\n',
      });
      // Only interfaces this invocation added are checked: bad0 is not reported again.
      expect(await vsctl('set', 'Interface', 'bad0', 'type=internal')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect((await vsctl('get', 'Open_vSwitch', '.', 'next_cfg', 'cur_cfg')).stdout).toBe('4\n4\n');
    } finally {
      vswitchd.close();
    }
  });

  it('does not wait when nothing changed or with --no-wait', async () => {
    expect(await vsctl('--no-wait', 'init')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await vsctl('--timeout=5', 'init')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await vsctl('--timeout=5', 'list-br')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await vsctl('--timeout=5', '--no-wait', 'add-br', 'br0')).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await vsctl('get', 'Open_vSwitch', '.', 'next_cfg')).stdout).toBe('0\n');
  });

  it('--timeout expires as the real tool: log line, SIGALRM (status 142), the change committed', async () => {
    const r = await vsctl('--timeout=1', 'add-br', 'br0');
    expect(r.status).toBe(142);
    expect(r.signal).toBe('SIGALRM');
    expect(normaliseStderr(r.stderr)).toBe('<time>|00002|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n');
    expect((await dumpDb(server.remote)).some((l) => l.startsWith('Bridge:br0 '))).toBe(true);
    expect((await vsctl('list-br')).stdout).toBe('br0\n');
  });
});

describe('the ovs-vsctl executable', () => {
  const pkg = join(__dirname, '..');
  beforeAll(() => {
    if (!existsSync(join(pkg, 'dist', 'cli.js'))) execFileSync(join(pkg, '..', '..', 'node_modules', '.bin', 'tsup'), ['--silent'], { cwd: pkg });
  }, 60_000);

  const real = ensureRealOvs();

  it('dies of SIGALRM on --timeout expiry, like the real ovs-vsctl', async () => {
    const ours = await spawnRun(process.execPath, [join(pkg, 'bin', 'ovs-vsctl.js'), `--db=${server.remote}`, '--timeout=1', 'add-br', 'br0']);
    expect(ours.status).toBeNull();
    expect(normaliseStderr(ours.stderr)).toBe('<time>|00002|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n');
    if (!real.ok) {
      console.warn(`not comparing with the real ovs-vsctl: ${real.reason}`);
      return;
    }
    const theirs = await spawnRun('ovs-vsctl', [`--db=${server.remote}`, '--timeout=1', 'add-br', 'br1']);
    expect(theirs.status).toBeNull();
    expect(normaliseStderr(theirs.stderr)).toBe(normaliseStderr(ours.stderr));
  });

  it('prints the same "Error detected" report as the real ovs-vsctl', async () => {
    if (!real.ok) {
      console.warn(`not comparing with the real ovs-vsctl: ${real.reason}`);
      return;
    }
    const vswitchd = await fakeVswitchd(server.remote);
    try {
      const ours = await spawnRun(process.execPath, [join(pkg, 'bin', 'ovs-vsctl.js'), `--db=${server.remote}`, 'add-br', 'bad-br']);
      const theirs = await spawnRun('ovs-vsctl', [`--db=${server.remote}`, 'add-br', 'bad-br2', '--', 'add-port', 'bad-br2', 'bad9']);
      expect(ours.status).toBe(0);
      expect(theirs.status).toBe(0);
      expect(ours.stderr).toBe(
        "ovs-vsctl: Error detected while setting up 'bad-br': could not open network device bad-br (No such device).  See ovs-vswitchd log for details.\n" +
          `ovs-vsctl: The default log directory is "${process.env.OVS_LOGDIR || `/tmp/ovs-ts-${process.getuid!()}`}".\n`,
      );
      expect(theirs.stderr).toMatch(/^ovs-vsctl: Error detected while setting up 'bad(-br2|9)': could not open network device bad(-br2|9) \(No such device\)\.  See ovs-vswitchd log for details\.\n/);
      expect(theirs.stderr.split('\n').filter((l) => l.includes('Error detected')).length).toBe(2);
    } finally {
      vswitchd.close();
    }
  });
});
