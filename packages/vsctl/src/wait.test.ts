/**
 * The waiting path: without --no-wait, ovs-vsctl increments next_cfg and
 * waits until ovs-vswitchd has caught up (cur_cfg ≥ next_cfg), then reports
 * the interfaces it added that ovs-vswitchd could not set up — exit status
 * still 0. A small fake "vswitchd" (an IDL client) plays ovs-vswitchd. With
 * --timeout and no vswitchd, the process dies of SIGALRM (shell status 142)
 * after the real tool's log line; checked in-process, through our bin and
 * against the real ovs-vsctl.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Idl, UnixctlServer } from '@ovs/ovsdb';
import { type Trace, parseTrace } from '@ovs/trace';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureRealOvs, run as spawnRun } from '@ovs/ovsdb/testing';
import { run } from './cli.js';
import { dumpDb, normaliseStderr, preferRealOvsOnPath, startOurServer, type Served } from './testing.js';

preferRealOvsOnPath();

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

/** A child process that writes its pid to PATH and holds an fcntl write lock on it until killed. */
function holdPidfile(path: string): Promise<ChildProcess> {
  const script = `
    const { openSync, writeSync } = require('node:fs');
    const { setLock } = require('@ovs/posix');
    const fd = openSync(${JSON.stringify(path)}, 'w');
    setLock(fd, 'write');
    writeSync(fd, process.pid + '\\n');
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`pid file holder exited (${code})`)));
  });
}

describe('--trace', () => {
  // What ovs-vswitchd's control socket would answer: trace/arm noted, trace/last a recorded bridge run.
  const recorded: Trace = {
    title: 'ovs-vswitchd: bridge_run (next_cfg 1)',
    roots: [{ kind: 'call', layer: 'bridge', name: 'bridge_run', children: [{ kind: 'call', layer: 'bridge', name: 'bridge_reconfigure', children: [] }] }],
  };
  let rundir: string;
  let unixctl: UnixctlServer;
  let calls: string[];
  let holder: ChildProcess;
  beforeEach(async () => {
    rundir = mkdtempSync(join(tmpdir(), 'vsctl-trace-'));
    calls = [];
    unixctl = new UnixctlServer();
    unixctl.register('trace/arm', '', 0, 1, () => {
      calls.push('arm');
      return '';
    });
    unixctl.register('trace/last', '', 0, 1, (args) => {
      calls.push(`last ${args.join(' ')}`);
      return `${JSON.stringify(recorded)}\n`;
    });
    // The pid file, write-locked for its life by the process it names, as a daemon's is (lib/daemon-unix.c):
    // ovs-vsctl finds ovs-vswitchd's control socket through it.
    holder = await holdPidfile(join(rundir, 'ovs-vswitchd.pid'));
    await unixctl.listen(join(rundir, `ovs-vswitchd.${holder.pid}.ctl`));
  });
  afterEach(async () => {
    holder.kill('SIGKILL');
    await unixctl.close();
    rmSync(rundir, { recursive: true, force: true });
  });
  const traced = (...args: string[]) => run([`--db=${server.remote}`, ...args], { env: { ...ENV, OVS_RUNDIR: rundir } });

  it('arms ovs-vswitchd before committing, and shows its recording under this invocation and its transaction', async () => {
    const vswitchd = await fakeVswitchd(server.remote);
    try {
      const r = await traced('--trace=json', 'add-br', 'br0');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(calls).toEqual(['arm', 'last --json']);
      const trace = parseTrace(JSON.parse(r.stdout));
      expect(trace.title).toBe(`ovs-vsctl --db=${server.remote} add-br br0`);
      const root = trace.roots[0]!;
      expect(root).toMatchObject({ layer: 'ovs-vsctl', name: 'do_vsctl', result: 'cur_cfg 1' });
      expect(root.children.map((c) => `${c.layer} ${c.name}`)).toEqual(['ovsdb transact', 'ovsdb ovs-vswitchd sees next_cfg 1', 'bridge bridge_run']);
      // The transaction as sent: add-br inserts the bridge's Interface, Port and Bridge, and bumps next_cfg.
      expect(root.children[0]!.args).toContain('insert Interface, insert Port, insert Bridge');
      expect(root.children[0]!.args).toContain('mutate Open_vSwitch');

      const tree = await traced('--trace', 'add-port', 'br0', 'p1');
      expect(tree.stdout.split('\n').slice(0, 2)).toEqual([`ovs-vsctl --db=${server.remote} add-port br0 p1`, 'ovs-vsctl  do_vsctl → cur_cfg 2']);
      const html = join(rundir, 'trace.html');
      const page = await traced('--trace=html', html, 'del-port', 'br0', 'p1');
      expect(page).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(readFileSync(html, 'utf8')).toContain('bridge_reconfigure');
      expect(readFileSync(html, 'utf8')).toContain(`<title>ovs-vsctl --db=${server.remote} del-port br0 p1</title>`);
    } finally {
      vswitchd.close();
    }
  });

  it('needs a change to wait for and a running ovs-vswitchd; a bad format is a usage error', async () => {
    expect(await traced('--trace', '--no-wait', 'add-br', 'br0')).toEqual({
      status: 1,
      stdout: '',
      stderr: 'ovs-vsctl: --trace follows the change into ovs-vswitchd: it cannot be used with --no-wait or --dry-run\n',
    });
    rmSync(join(rundir, 'ovs-vswitchd.pid'));
    const r = await traced('--trace', 'add-br', 'br0');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `ovs-vsctl: --trace: ovs-vswitchd is not running (cannot read pidfile "${join(rundir, 'ovs-vswitchd.pid')}" (No such file or directory))\n`,
    );
    expect((await traced('--trace=svg', 'add-br', 'br0')).stderr).toBe('ovs-vsctl: unknown trace format "svg" (tree, json or html FILE)\n');
    expect((await traced('--trace=html')).stderr).toBe("ovs-vsctl: option '--trace=html' requires a FILE argument\n");
    // Nothing was committed by the refused invocations.
    expect((await vsctl('--no-wait', 'list-br')).stdout).toBe('');
  });
});

describe('the ovs-vsctl executable', () => {
  const pkg = join(__dirname, '..');
  beforeAll(() => {
    if (!existsSync(join(pkg, 'dist', 'cli.cjs'))) execFileSync(join(pkg, '..', '..', 'node_modules', '.bin', 'tsup'), ['--silent'], { cwd: pkg });
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
    // Two processes, each alive for its 1 s alarm plus its start-up: more than vitest's 5 s default on a loaded machine.
  }, 30_000);

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
      expect(theirs.stderr).toMatch(
        /^ovs-vsctl: Error detected while setting up 'bad(-br2|9)': could not open network device bad(-br2|9) \(No such device\)\. {2}See ovs-vswitchd log for details\.\n/,
      );
      expect(theirs.stderr.split('\n').filter((l) => l.includes('Error detected')).length).toBe(2);
    } finally {
      vswitchd.close();
    }
  });
});
