/**
 * Debian's real Open vSwitch (3.1 on Debian 12) for the interop tests:
 * installed with apt-get when missing, ovsdb-server run in the foreground as
 * our child on a private socket, ovs-vsctl / ovsdb-client / ovsdb-tool run
 * against any server.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REAL_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const BINARIES = ['ovsdb-server', 'ovsdb-tool', 'ovsdb-client', 'ovs-vsctl'];

function have(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

let checked: { ok: boolean; reason?: string } | undefined;

/** Makes sure the binaries are there, installing the Debian packages if needed. */
export function ensureRealOvs(): { ok: boolean; reason?: string } {
  if (checked) return checked;
  const missing = () => BINARIES.filter((b) => !have(b)).concat(existsSync(REAL_SCHEMA) ? [] : [REAL_SCHEMA]);
  if (missing().length) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'openvswitch-common', 'openvswitch-switch'], { env, stdio: 'ignore' });
    if (install().status !== 0) {
      spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
      install();
    }
  }
  const still = missing();
  checked = still.length
    ? { ok: false, reason: `real Open vSwitch unavailable (missing ${still.join(', ')}; apt-get install openvswitch-switch failed: no network or not root)` }
    : { ok: true };
  if (!checked.ok) console.warn(`SKIPPING interop tests: ${checked.reason}`);
  return checked;
}

export interface RealServer {
  proc: ChildProcess;
  remote: string;
  socket: string;
  file: string;
  stop: () => Promise<void>;
}

/** Runs the real ovsdb-server on `file` (created from the real schema if absent). */
export async function startRealServer(dir: string, file = join(dir, 'real.db')): Promise<RealServer> {
  if (!existsSync(file)) execFileSync('ovsdb-tool', ['create', file, REAL_SCHEMA]);
  const socket = join(dir, 'real.sock');
  const proc = spawn(
    'ovsdb-server',
    [file, `--remote=punix:${socket}`, `--unixctl=${join(dir, 'real.ctl')}`, `--log-file=${join(dir, 'real.log')}`, '--no-chdir', '-vconsole:off'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(socket)) {
    proc.kill('SIGKILL');
    throw new Error('real ovsdb-server did not start');
  }
  return {
    proc,
    remote: `unix:${socket}`,
    socket,
    file,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 20000): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

export const vsctl = (remote: string, ...args: string[]) => run('ovs-vsctl', [`--db=${remote}`, '--timeout=10', ...args]);
