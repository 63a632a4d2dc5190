/**
 * Test helpers: a fresh in-memory @ovs/ovsdb server per case, a database dump
 * that does not depend on UUIDs, and output normalisation (UUIDs masked, and
 * records whose order follows UUIDs — hash order in the real tool — sorted).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, type Json, type JsonObject, OvsdbClient, OvsdbServer, ServedDatabase, vswitchDatabaseSchema } from '@ovs/ovsdb';

/**
 * The workspace's own bins (ovs-vsctl, ovsdb-server, ovsdb-tool) are on the
 * PATH vitest runs with (node_modules/.bin): the real tools' directories go
 * first, so that "the real ovs-vsctl" and "the real ovsdb-server" of these
 * tests are Debian's and not ours.
 */
export function preferRealOvsOnPath(): void {
  const path = (process.env.PATH ?? '').split(':').filter((d) => d !== '/usr/sbin' && d !== '/usr/bin');
  process.env.PATH = ['/usr/sbin', '/usr/bin', ...path].join(':');
}

export interface Served {
  remote: string;
  served: ServedDatabase;
  close: () => Promise<void>;
}

export async function startOurServer(): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'vsctl-test-'));
  const served = new ServedDatabase(new Database(vswitchDatabaseSchema()));
  const socket = join(dir, 'db.sock');
  const server = await OvsdbServer.start({ databases: [served], remotes: [`punix:${socket}`] });
  return {
    remote: `unix:${socket}`,
    served,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const NAME_COLUMN: Record<string, string> = { Controller: 'target', Manager: 'target', Flow_Sample_Collector_Set: 'id' };

/**
 * Every row of every table, UUIDs replaced by "Table:name" of the row they
 * name (Open_vSwitch is "."; rows without a name are "Table:?"), rows sorted.
 */
export async function dumpDb(remote: string): Promise<string[]> {
  const c = await OvsdbClient.connect(remote);
  try {
    const schema = vswitchDatabaseSchema();
    const tables = [...schema.tables.keys()];
    const results = (await c.transact('Open_vSwitch', ...tables.map((t) => ({ op: 'select', table: t, where: [] })))) as JsonObject[];
    const label = new Map<string, string>();
    const rowsOf = tables.map((t, i) => ({ t, rows: (results[i]!.rows as JsonObject[]) ?? [] }));
    for (const { t, rows } of rowsOf) {
      for (const r of rows) {
        const uuid = (r._uuid as Json[])[1] as string;
        const n = t === 'Open_vSwitch' ? '.' : r[NAME_COLUMN[t] ?? 'name'];
        label.set(uuid, `${t}:${typeof n === 'string' || typeof n === 'number' ? n : '?'}`);
      }
    }
    const out: string[] = [];
    for (const { rows } of rowsOf) {
      for (const r of rows) {
        const { _uuid, _version, ...cols } = r;
        const text = JSON.stringify(sortDeep(cols)).replace(UUID_G, (u) => label.get(u) ?? '<uuid>');
        out.push(`${label.get((_uuid as Json[])[1] as string)} ${JSON.stringify(sortDeep(JSON.parse(text)))}`);
      }
    }
    return out.sort();
  } finally {
    c.close();
  }
}

/** Sorts object keys and the members of ["set", ...] / ["map", ...] so equal values print alike. */
function sortDeep(j: unknown): unknown {
  if (Array.isArray(j)) {
    if ((j[0] === 'set' || j[0] === 'map') && Array.isArray(j[1])) {
      return [j[0], (j[1] as unknown[]).map(sortDeep).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))];
    }
    return j.map(sortDeep);
  }
  if (j && typeof j === 'object') {
    return Object.fromEntries(
      Object.keys(j)
        .sort()
        .map((k) => [k, sortDeep((j as Record<string, unknown>)[k])]),
    );
  }
  return j;
}

/** Sorts sibling blocks of an indented tree (`show`) recursively. */
function sortTree(lines: string[]): string[] {
  const indent = (l: string) => l.length - l.trimStart().length;
  const blocks: string[][] = [];
  for (const l of lines) {
    if (!blocks.length || indent(l) <= indent(blocks[0]![0]!)) blocks.push([l]);
    else blocks[blocks.length - 1]!.push(l);
  }
  return blocks
    .map((b) => [b[0]!, ...sortTree(b.slice(1))])
    .sort((a, b) => (a.join('\n') < b.join('\n') ? -1 : 1))
    .flat();
}

/** Masks UUIDs and puts order-dependent output in a canonical order. */
export function normalise(stdout: string): string {
  const masked = stdout.replace(UUID_G, '<uuid>');
  const trimmed = masked.trim();
  if (trimmed.startsWith('{"data"')) {
    return masked
      .split('\n')
      .map((line) => {
        if (!line.startsWith('{"data"')) return line;
        const j = JSON.parse(line) as { data: unknown[]; headings: unknown };
        return JSON.stringify({ data: j.data.map((r) => JSON.stringify(r)).sort(), headings: j.headings });
      })
      .join('\n');
  }
  const lines = masked.split('\n');
  // --format=table (a dashed rule under the headings) or csv: sort the data lines.
  const rule = lines.findIndex((l) => /^-+( +-+)*$/.test(l));
  if (rule >= 0 || lines[0]?.includes(',')) {
    const body = rule >= 0 ? rule + 1 : 1;
    return [...lines.slice(0, body), ...lines.slice(body).sort()].join('\n');
  }
  if (lines.some((l) => l.startsWith(' '))) return sortTree(lines.filter(Boolean)).join('\n');
  // list-format records (blank-line separated): sort the records.
  return masked
    .split('\n\n')
    .map((b) => b.replace(/\n$/, ''))
    .sort()
    .join('\n\n');
}

/** The timestamp of a console log line ("2026-01-01T00:00:00Z|00001|...") varies. */
export function normaliseStderr(stderr: string): string {
  return stderr.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, '<time>|');
}
