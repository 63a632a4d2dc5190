/**
 * ovsdb_storage_write() (ovsdb/storage.c, OVS 3.1): a standalone database's
 * commit is written to the log, and ovsdb_log_commit_block() — the fsync — is
 * called only for a transaction that says "durable": true.
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DbFile } from './log.js';
import { ServedDatabase } from './server.js';
import { tempDir } from './testing/helpers.js';
import { vswitchSchema } from './vswitch.js';

const synced = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fdatasyncSync: (fd: number) => {
      synced.count++;
      fs.fdatasyncSync(fd);
    },
  };
});

describe('commit durability', () => {
  it('fsyncs a durable commit, and only that one', () => {
    const t = tempDir('ovsdb-durable-');
    try {
      DbFile.create(join(t.dir, 'x.db'), vswitchSchema());
      const file = DbFile.open(join(t.dir, 'x.db'));
      const served = new ServedDatabase(file.db, file);
      const txn = (...ops: object[]) => served.transact(['Open_vSwitch', ...ops]);
      synced.count = 0;
      expect(txn({ op: 'insert', table: 'Open_vSwitch', row: { next_cfg: 1 } })).toMatchObject({ kind: 'done', results: [{ uuid: expect.anything() }] });
      expect(synced.count).toBe(0);
      const bump = { op: 'update', table: 'Open_vSwitch', where: [], row: { next_cfg: 2 } };
      expect(txn(bump, { op: 'commit', durable: true })).toMatchObject({ kind: 'done', results: [{ count: 1 }, {}] });
      expect(synced.count).toBe(1);
      // Both are in the file, durable or not.
      file.close();
      const row = [...DbFile.open(join(t.dir, 'x.db')).db.table('Open_vSwitch')!.rows.values()][0]!;
      expect(row.fields.next_cfg!.keys).toEqual([2]);
    } finally {
      t.cleanup();
    }
  });
});
