/**
 * Many clients at once, as a CNI plugin or a test suite drives a switch: 50
 * ovs-vsctl processes started together against one bridge — adding ports,
 * deleting ports, setting columns, and some that must fail (two adding the
 * same port, two deleting one that does not exist) — while ovs-vswitchd
 * applies the changes to the kernel model. Three pairings: our ovs-vsctl and
 * our database server; Debian's real ovs-vsctl 3.1 and our server; ours and
 * the real ovsdb-server. Every piece is its own process, as a user runs
 * them (the ovs-kernel daemon, the database server, ovs-vswitchd), so the
 * interleavings are the real ones.
 *
 * What must hold (the real tool's behaviour, and the database's invariants):
 * every call ends — none runs into its --timeout — with the exit status and
 * error text the real ovs-vsctl gives; no port is lost or doubled; ofports
 * are unique, and the ports that were there keep theirs; cur_cfg reaches
 * next_cfg; the datapath holds exactly the interfaces the database has.
 */
import { ensureRealOvs } from '@ovs/ovsdb/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Switch, type Vsctl, startSwitch } from './testing/daemons.js';

const real = ensureRealOvs();

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const internal = (name: string) => ['add-port', 'br0', name, '--', 'set', 'Interface', name, 'type=internal'];

/** The 50 concurrent calls, with what the real ovs-vsctl ends with for each (whatever the interleaving). */
function workload(): Array<{ args: string[]; expect: 'ok' | 'dup' | 'nosuch' }> {
  const calls: Array<{ args: string[]; expect: 'ok' | 'dup' | 'nosuch' }> = [];
  for (const p of range(26, 'new')) calls.push({ args: internal(p), expect: 'ok' });
  for (const p of range(10, 'del')) calls.push({ args: ['del-port', 'br0', p], expect: 'ok' });
  for (const [i, p] of range(10, 'keep').entries()) calls.push({ args: ['set', 'Interface', p, `external_ids:stress=${i + 1}`], expect: 'ok' });
  // Two add the same port: one wins, the other finds it there once it retries.
  calls.push({ args: internal('dup'), expect: 'dup' }, { args: internal('dup'), expect: 'dup' });
  calls.push({ args: ['del-port', 'br0', 'gone'], expect: 'nosuch' }, { args: ['del-port', 'br0', 'gone'], expect: 'nosuch' });
  return calls;
}

async function stressAndCheck(rig: Switch): Promise<void> {
  const { vsctl } = rig;
  const setup = await vsctl(['add-br', 'br0', ...[...range(10, 'keep'), ...range(10, 'del')].flatMap((p) => ['--', ...internal(p)])]);
  expect(setup).toMatchObject({ status: 0, stderr: '' });
  const before = await ofports(vsctl);

  const calls = workload();
  const results = await Promise.all(calls.map((c) => vsctl(c.args)));

  // Every call ended as the real tool ends it.
  const dupResults = results.filter((_, i) => calls[i]!.expect === 'dup');
  expect(dupResults.map((r) => r.status).sort()).toEqual([0, 1]);
  expect(dupResults.find((r) => r.status === 1)!.stderr).toBe(
    'ovs-vsctl: cannot create a port named dup because a port named dup already exists on bridge br0\n',
  );
  for (const [i, r] of results.entries()) {
    const want = calls[i]!.expect;
    if (want === 'ok') expect(r, r.args.join(' ')).toMatchObject({ status: 0, stderr: '' });
    if (want === 'nosuch') expect(r).toMatchObject({ status: 1, stderr: 'ovs-vsctl: no port named gone\n' });
  }

  // Nothing lost or doubled.
  const ports = (await listPorts(vsctl)).sort();
  expect(ports).toEqual([...range(10, 'keep'), ...range(26, 'new'), 'dup'].sort());
  const after = await ofports(vsctl);
  expect([...after.keys()].sort()).toEqual(['br0', ...ports].sort());
  // ofports unique and set; the ports that were there keep theirs.
  const numbers = [...after.values()];
  expect(new Set(numbers).size).toBe(numbers.length);
  for (const [name, n] of after) expect(n, name).toBeGreaterThan(0);
  for (const p of range(10, 'keep')) expect(after.get(p)).toBe(before.get(p));
  expect(after.get('br0')).toBe(65534);
  // Every set took effect.
  for (const [i, p] of range(10, 'keep').entries()) expect(await getValue(vsctl, ['get', 'Interface', p, 'external_ids:stress'])).toBe(`"${i + 1}"`);
  // ovs-vswitchd caught up, and the datapath is what the database says.
  const [cur, next] = [await getValue(vsctl, ['get', 'Open_vSwitch', '.', 'cur_cfg']), await getValue(vsctl, ['get', 'Open_vSwitch', '.', 'next_cfg'])];
  expect(cur).toBe(next);
  expect((await rig.vports()).sort()).toEqual(['ovs-system', 'br0', ...ports].sort());
}

async function getValue(vsctl: Vsctl, args: string[]): Promise<string> {
  const r = await vsctl(args);
  expect(r, args.join(' ')).toMatchObject({ status: 0, stderr: '' });
  return r.stdout.trim();
}

async function listPorts(vsctl: Vsctl): Promise<string[]> {
  return (await getValue(vsctl, ['list-ports', 'br0'])).split('\n').filter(Boolean);
}

/** Interface name -> ofport. */
async function ofports(vsctl: Vsctl): Promise<Map<string, number>> {
  const text = await getValue(vsctl, ['--bare', '--columns=name,ofport', 'list', 'Interface']);
  return new Map(
    text
      .split(/\n\n/)
      .map((b) => b.split('\n') as [string, string])
      .map(([n, o]) => [n, Number(o)]),
  );
}

describe('50 concurrent ovs-vsctl calls on one bridge', () => {
  let sw: Switch | undefined;
  afterEach(async () => {
    await sw?.stop();
    sw = undefined;
  }, 60_000);

  it('our ovs-vsctl, our database server', async () => {
    await stressAndCheck((sw = await startSwitch({ server: 'ours', client: 'ours' })));
  }, 240_000);

  it.runIf(real.ok)(
    "Debian's ovs-vsctl, our database server",
    async () => {
      await stressAndCheck((sw = await startSwitch({ server: 'ours', client: 'real' })));
    },
    240_000,
  );

  it.runIf(real.ok)(
    "our ovs-vsctl, Debian's ovsdb-server",
    async () => {
      await stressAndCheck((sw = await startSwitch({ server: 'real', client: 'ours' })));
    },
    240_000,
  );
});
