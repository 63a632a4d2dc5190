/**
 * The rig of the restart and fault tests: the ovs-kernel daemon and the
 * database server in this process (so a test can look at the kernel as it
 * is, restart it, inject faults into it), ovs-vswitchd as a real child
 * process (so it can really be killed), and our ovs-vsctl to drive it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Daemon, startDaemon } from '@ovs/kernel-datapath';
import { Database, Idl, OvsdbServer, ServedDatabase, type VswitchTables, vswitchDatabaseSchema } from '@ovs/ovsdb';

const VSWITCHD = fileURLToPath(new URL('../../bin/ovs-vswitchd.js', import.meta.url));
const VSCTL = fileURLToPath(new URL('../../../vsctl/bin/ovs-vsctl.js', import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KernelRig {
  vswitchd: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    public daemon: Daemon,
    readonly server: OvsdbServer,
    /** A client of the database, to read what vswitchd writes back. */
    readonly idl: Idl<VswitchTables>,
  ) {}

  static async start(): Promise<KernelRig> {
    const dir = mkdtempSync(join(tmpdir(), 'vswitchd-rig-'));
    const daemon = await startDaemon({ socketPath: join(dir, 'ovs-kernel.sock'), log: () => {} });
    const server = await OvsdbServer.start({
      databases: [new ServedDatabase(new Database(vswitchDatabaseSchema()))],
      remotes: [`punix:${join(dir, 'db.sock')}`],
    });
    const idl = await Idl.open<VswitchTables>({ remote: `unix:${join(dir, 'db.sock')}` });
    const init = idl.transaction();
    init.insert('Open_vSwitch', {});
    await init.commit();
    return new KernelRig(dir, daemon, server, idl);
  }

  async close(): Promise<void> {
    await this.killVswitchd();
    this.idl.close();
    await this.server.close();
    await this.daemon.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** ovs-vswitchd as a process, on the rig's daemon and database; resolves once its control socket exists. */
  async startVswitchd(): Promise<void> {
    const ctl = join(this.dir, 'ovs-vswitchd.ctl');
    rmSync(ctl, { force: true });
    const args = [
      `--kernel-socket=${this.daemon.socketPath}`,
      `--unixctl=${ctl}`,
      `--pidfile=${join(this.dir, 'ovs-vswitchd.pid')}`,
      `--log-file=${join(this.dir, 'ovs-vswitchd.log')}`,
      `unix:${join(this.dir, 'db.sock')}`,
    ];
    this.vswitchd = spawn(process.execPath, [VSWITCHD, ...args], { stdio: 'ignore', env: { ...process.env, OVS_RUNDIR: this.dir } });
    for (let i = 0; i < 600 && !existsSync(ctl); i++) await sleep(50);
    if (!existsSync(ctl)) throw new Error('ovs-vswitchd did not start');
  }

  /** kill -9, and wait for it to be gone. */
  async killVswitchd(): Promise<void> {
    const child = this.vswitchd;
    this.vswitchd = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** Whether the ovs-vswitchd process is still running. */
  get vswitchdAlive(): boolean {
    return this.vswitchd !== undefined && this.vswitchd.exitCode === null && this.vswitchd.signalCode === null;
  }

  /** A new kernel behind the same socket path (the daemon stopped and started again). */
  async restartDaemon(): Promise<void> {
    const path = this.daemon.socketPath;
    await this.daemon.close();
    this.daemon = await startDaemon({ socketPath: path, log: () => {} });
  }

  vsctl(...args: string[]): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [VSCTL, `--db=unix:${join(this.dir, 'db.sock')}`, '--timeout=300', ...args],
        { maxBuffer: 64 << 20, timeout: 330_000 },
        (err, _out, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
        },
      );
    });
  }

  /** Wait (bounded) until `ok()` holds, looking again at each database change. */
  async until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
      await Promise.race([this.idl.waitForChange(), sleep(100)]);
    }
  }

  /** The datapath's vports, name -> port number. */
  vports(): Map<string, number> {
    const dp = this.daemon.kernel.ovs?.datapaths().find((d) => d.name === 'ovs-system');
    return new Map((dp?.buckets.flat() ?? []).map((v) => [v.name, v.portNo]));
  }

  /** The kernel's devices by name. */
  devices(): string[] {
    return [...this.daemon.kernel.initNet.devices].map((d) => d.name).sort();
  }

  /** Interface name -> ofport and error, as the database has them. */
  interfaces(): Map<string, { ofport: number | null; error: string | null }> {
    return new Map([...this.idl.rows('Interface')].map((r) => [r.get('name'), { ofport: r.get('ofport'), error: r.get('error') }]));
  }
}
