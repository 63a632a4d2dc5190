/**
 * ovs-sandbox as a user runs it (the built bin, real processes: the
 * ovs-kernel daemon, ovs-db serve, ovs-vswitchd, and the tools on PATH): the
 * seeds' flow script prints what real OVS prints for the same steps — the
 * OpenFlow and datapath port numbers follow the oracle's rules
 * (../shared/oracle/results.md), the kernel datapath's names for its types —
 * and the sandbox's exit status is the command's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const sandbox = (...args: string[]) => spawnSync(process.execPath, [`${PKG}bin/ovs-sandbox.js`, ...args], { encoding: 'utf8', cwd: PKG, timeout: 120_000 });

describe('ovs-sandbox', () => {
  it('runs the seed-flow scenario against a whole switch', () => {
    const r = sandbox('sh', 'scenarios/seed-flow.sh');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(`${PKG}scenarios/seed-flow.expected`, 'utf8'));
    expect(r.status).toBe(0);
    // Three daemons and a dozen tool processes, each a node start-up.
  }, 120_000);

  it('runs the README\'s "Running it for real" scenario: live device state, concurrent clients, a kernel fault', () => {
    // Each printed value is one the lab or real OVS 3.1 gives for the same step (live-state.test.ts, faults.test.ts).
    const r = sandbox('sh', 'scenarios/running-for-real.sh');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(`${PKG}scenarios/running-for-real.expected`, 'utf8'));
    expect(r.status).toBe(0);
  }, 120_000);

  it("runs the CNI scenario: a pod end in its namespace, then the port's device moved away (real OVS 3.1 on Linux 6.1 printed the same)", () => {
    const r = sandbox('sh', 'scenarios/cni-netns.sh');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(`${PKG}scenarios/cni-netns.expected`, 'utf8'));
    expect(r.status).toBe(0);
  }, 120_000);

  it('initialises the database as ovs-ctl does (db-version, ovs-version, system ids from /etc/os-release)', () => {
    const r = sandbox('ovs-vsctl', 'get', 'Open_vSwitch', '.', 'db_version', 'ovs_version', 'system_type', 'system_version', 'external_ids:system-id');
    const os = Object.fromEntries([...readFileSync('/etc/os-release', 'utf8').matchAll(/^([A-Z_]+)="?([^"\n]*)"?$/gm)].map((m) => [m[1], m[2]]));
    const [db, ovs, type, version, id] = r.stdout.trim().split('\n');
    expect([db, ovs, type, version]).toEqual(['"8.3.1"', '"0.1.0"', JSON.stringify(os.ID).replace(/^"([a-z0-9]+)"$/, '$1'), `"${os.VERSION_ID}"`]);
    expect(id).toMatch(/^"[0-9a-f-]{36}"$/);
  }, 120_000);

  it("exits with its command's status and leaves no daemon behind", () => {
    const r = sandbox('sh', '-c', 'echo "$OVS_RUNDIR"; exit 3');
    expect(r.status).toBe(3);
    const dir = r.stdout.trim();
    // The daemons' pid files are gone with them.
    expect(spawnSync('sh', ['-c', `ls ${dir}/*.pid 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  }, 120_000);
});

describe('the ovs-sandbox shell', () => {
  /** The sandbox with a shell reading `script` (its stdin), as a user at a terminal would type it. */
  const session = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, [`${PKG}bin/ovs-sandbox.js`, ...args], {
      encoding: 'utf8',
      cwd: PKG,
      input: script,
      env: { ...process.env, SHELL: '/bin/sh' },
      timeout: 120_000,
    });

  it('starts in the sandbox directory after a banner saying where the logs are, and removes the directory at the end', () => {
    const r = session('pwd\nls ovs-vswitchd.log ovs-db.log ovs-kernel.log conf.db\nexit 4\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(4);
    const lines = r.stdout.split('\n');
    // OVS's banner, then the shell's own output: its working directory is the one the banner names.
    const i = lines.indexOf('directory, where this shell starts:');
    expect(i).toBeGreaterThan(0);
    const dir = lines[i + 1]!.trim();
    expect(lines.slice(0, 3)).toEqual(['', '-'.repeat(70), 'You are running in a sandboxed Open vSwitch (TypeScript) environment: the']);
    expect(lines[i - 1]).toBe('Log files, pidfiles, and the configuration database are in the sandbox');
    expect(lines[i + 2]).toBe('  (ovs-vswitchd.log, ovs-db.log, ovs-kernel.log)');
    expect(lines.slice(i + 3, i + 9)).toEqual([
      '',
      'Exit the shell to kill the running daemons and remove the directory.',
      dir,
      'conf.db',
      'ovs-db.log',
      'ovs-kernel.log',
    ]);
    // ... and OVS's closing line.
    expect(r.stdout.endsWith(`ovs-vswitchd.log\n${'-'.repeat(70)}\n\n\n\n`)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  }, 120_000);

  it('--keep keeps the temporary directory, and says so', () => {
    const r = spawnSync(process.execPath, [`${PKG}bin/ovs-sandbox.js`, '--keep', 'sh', '-c', 'echo "$OVS_RUNDIR"; pwd'], {
      encoding: 'utf8',
      cwd: PKG,
      timeout: 120_000,
    });
    const [dir, cwd] = r.stdout.trim().split('\n');
    try {
      expect(r.status).toBe(0);
      // A command runs where the sandbox was started (a script's relative paths hold).
      expect(cwd).toBe(PKG.replace(/\/$/, ''));
      expect(r.stderr).toBe(`ovs-sandbox: kept ${dir}\n`);
      expect(existsSync(`${dir}/ovs-vswitchd.log`)).toBe(true);
      expect(spawnSync('sh', ['-c', `ls ${dir}/*.pid 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
    } finally {
      if (dir?.includes('ovs-sandbox-')) rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("refuses an option it does not know, as OVS's ovs-sandbox does", () => {
    const r = sandbox('--bogus');
    expect(r).toMatchObject({ status: 1, stdout: '', stderr: 'unrecognized option --bogus (use --help for help)\n' });
  });
});

/**
 * However the sandbox ends, it stops what it started and removes its
 * temporary directory: a signal (passed on to its command first) or its
 * parent going away. The daemons all name the directory on their command
 * line, so none is left when no process does.
 */
describe('ovs-sandbox stopped from outside', () => {
  const processesIn = (dir: string) => spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' }).stdout.trim();
  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(ok(), what).toBe(true);
  }
  /** Starts `sh -c SCRIPT` in a sandbox (through `wrapper` if given); resolves with the sandbox directory once the command runs. */
  function start(wrapper: string[] = []): { child: ChildProcess; dir: Promise<string> } {
    const child = spawn(
      wrapper[0] ?? process.execPath,
      [...wrapper.slice(1), ...(wrapper.length ? [] : [`${PKG}bin/ovs-sandbox.js`]), 'sh', '-c', 'echo "$OVS_RUNDIR"; exec sleep 60'],
      {
        cwd: PKG,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const dir = new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
    });
    return { child, dir };
  }

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s: the command and the daemons stop, the directory goes',
    async (sig) => {
      const { child, dir } = start();
      const d = await dir;
      expect(existsSync(`${d}/db.sock`)).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(sig);
      expect(await exited).toBe(128 + osConstants.signals[sig]);
      expect(processesIn(d)).toBe('');
      expect(existsSync(d)).toBe(false);
    },
    120_000,
  );

  it('its parent killed: it stops everything all the same', async () => {
    // A shell that starts the sandbox in the background and waits; SIGKILL for the shell.
    const { child, dir } = start(['sh', '-c', `"${process.execPath}" "${PKG}bin/ovs-sandbox.js" "$@" & wait`, 'sh']);
    const d = await dir;
    child.kill('SIGKILL');
    await until('no process left in the sandbox', () => processesIn(d) === '' && !existsSync(d));
  }, 120_000);
});
