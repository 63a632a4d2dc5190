/**
 * The database server restarted (same file) under a running ovs-vsctl, ours
 * and Debian's real one side by side, as utilities/ovs-vsctl.c and
 * lib/ovsdb-cs.c behave: waiting to retry without --retry, the lost
 * connection ends the run ("database connection failed (End of file)"); with
 * --retry it reconnects and goes on; waiting for cur_cfg it always reconnects
 * (ovsdb_idl_enable_reconnect) and returns once cur_cfg is reached. Nothing
 * committed is lost across the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbFile, OvsdbClient, OvsdbServer, ServedDatabase, vswitchSchema } from '@ovs/ovsdb';
import { ensureRealOvs, run as spawnRun } from '@ovs/ovsdb/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from './cli.js';
import { preferRealOvsOnPath } from './testing.js';

preferRealOvsOnPath();

const DB = 'Open_vSwitch';

/** Our server on a file, which can be stopped and started again on the same socket. */
class Restartable {
  server: OvsdbServer | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), 'vsctl-restart-'));
  readonly file = join(this.dir, 'conf.db');
  readonly socket = join(this.dir, 'db.sock');
  readonly remote = `unix:${this.socket}`;

  async start(): Promise<void> {
    const f = DbFile.open(this.file);
    this.server = await OvsdbServer.start({ databases: [new ServedDatabase(f.db, f)], remotes: [`punix:${this.socket}`] });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Bounded wait until `n` sessions hold a monitor (the ovs-vsctl is connected and waiting). */
  async monitoring(n: number): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if ([...(this.server?.sessions ?? [])].filter((s) => s.monitors.size > 0).length >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('ovs-vsctl never started waiting');
  }

  async transact(...ops: unknown[]): Promise<unknown[]> {
    const c = await OvsdbClient.connect(this.remote);
    try {
      return await c.transact(DB, ...(ops as never[]));
    } finally {
      c.close();
    }
  }
}

type Result = { status: number | null; stdout: string; stderr: string };
type Vsctl = (args: string[]) => Promise<Result>;

const ours: Vsctl = (args) => run(args, { env: { ...process.env, OVS_LOGDIR: '/l' } });
const real: Vsctl = (args) => spawnRun('ovs-vsctl', args, 60_000);

let srv: Restartable;
afterEach(async () => {
  await srv.stop();
  rmSync(srv.dir, { recursive: true, force: true });
});

async function fresh(vsctl: Vsctl): Promise<void> {
  srv = new Restartable();
  DbFile.create(srv.file, vswitchSchema());
  await srv.start();
  expect((await vsctl([`--db=${srv.remote}`, '--no-wait', 'init'])).status).toBe(0);
  // Its session gone, the only monitoring session will be the ovs-vsctl under test.
  for (let i = 0; i < 500 && srv.server!.sessions.size; i++) await new Promise((r) => setTimeout(r, 20));
  expect(srv.server!.sessions.size).toBe(0);
}

const tools: [string, Vsctl, boolean][] = [
  ['ours', ours, true],
  ['real ovs-vsctl', real, ensureRealOvs().ok],
];

describe.each(tools)('ovs-vsctl (%s) with the database server restarted', (_name, vsctl, available) => {
  const test = available ? it : it.skip;

  test('waiting to retry, without --retry: the run ends with "database connection failed (End of file)"', async () => {
    await fresh(vsctl);
    const pending = vsctl([`--db=${srv.remote}`, '--timeout=30', 'wait-until', 'Open_vSwitch', '.', 'external_ids:k=v']);
    await srv.monitoring(1);
    await srv.stop();
    const r = await pending;
    expect(r).toMatchObject({ status: 1, stdout: '' });
    expect(r.stderr).toBe(`ovs-vsctl: ${srv.remote}: database connection failed (End of file)\n`);
  }, 60_000);

  test('with --retry: reconnects to the restarted server and goes on', async () => {
    await fresh(vsctl);
    const pending = vsctl([`--db=${srv.remote}`, '--retry', '--timeout=30', 'wait-until', 'Open_vSwitch', '.', 'external_ids:k=v']);
    await srv.monitoring(1);
    await srv.stop();
    await srv.start();
    await srv.monitoring(1);
    await srv.transact({ op: 'mutate', table: DB, where: [], mutations: [['external_ids', 'insert', ['map', [['k', 'v']]]]] });
    expect(await pending).toEqual({ status: 0, stdout: '', stderr: '' });
  }, 60_000);

  test('waiting for cur_cfg: reconnects even without --retry, and the change committed before is kept', async () => {
    await fresh(vsctl);
    const pending = vsctl([`--db=${srv.remote}`, '--timeout=30', 'add-br', 'br0']);
    await srv.monitoring(1);
    // The add-br is committed (next_cfg 1) before the server goes away.
    for (let i = 0; i < 500; i++) {
      const [r] = (await srv.transact({ op: 'select', table: DB, where: [], columns: ['next_cfg'] })) as [{ rows: { next_cfg: number }[] }];
      if (r.rows[0]?.next_cfg === 1) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await srv.stop();
    await srv.start();
    await srv.monitoring(1);
    // ovs-vswitchd's part: the bridge's interface gets its port, cur_cfg catches up.
    await srv.transact(
      { op: 'update', table: 'Interface', where: [['name', '==', 'br0']], row: { ofport: 65534 } },
      { op: 'update', table: DB, where: [], row: { cur_cfg: 1 } },
    );
    expect(await pending).toEqual({ status: 0, stdout: '', stderr: '' });
    const list = await vsctl([`--db=${srv.remote}`, '--no-wait', 'list-br']);
    expect(list.stdout).toBe('br0\n');
  }, 60_000);
});
