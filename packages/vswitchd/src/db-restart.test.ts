/**
 * The database server restarted under a running switch (same file, new
 * process): ovs-vswitchd's IDL reconnects and goes on; an ovs-vsctl that was
 * waiting for ovs-vswitchd (cur_cfg) when the server went away reconnects
 * and returns once the change is applied, as the real one does (its wait
 * reconnects whatever the options); one started with --retry while the
 * server is down connects when it is back. Nothing configured is lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Switch, startSwitch, until } from './testing/daemons.js';

const internal = (name: string) => ['add-port', 'br0', name, '--', 'set', 'Interface', name, 'type=internal'];

describe('the database server restarted under a running switch', () => {
  let sw: Switch;
  afterAll(async () => {
    if (sw?.vswitchd.alive()) process.kill(sw.vswitchd.pid, 'SIGCONT');
    await sw?.stop();
  }, 60_000);

  it('ovs-vswitchd and a waiting ovs-vsctl reconnect and go on; nothing is lost', async () => {
    sw = await startSwitch();
    expect(await sw.vsctl(['add-br', 'br0', '--', ...internal('p0')])).toMatchObject({ status: 0, stderr: '' });

    // ovs-vswitchd held still, so the next ovs-vsctl commits and then waits for cur_cfg.
    process.kill(sw.vswitchd.pid, 'SIGSTOP');
    const waiting = sw.vsctl(internal('p1'));
    await until('p1 committed', async () => (await sw.vsctl(['--no-wait', 'list-ports', 'br0'])).stdout.includes('p1'));
    await sw.restartDb();
    process.kill(sw.vswitchd.pid, 'SIGCONT');
    expect(await waiting).toMatchObject({ status: 0, stderr: '' });

    // While the server is down, a --retry call waits for it.
    await sw.dbServer!.stop();
    const retrying = sw.vsctl(['--retry', ...internal('p2')]);
    await sw.restartDb();
    expect(await retrying).toMatchObject({ status: 0, stderr: '' });

    expect(await sw.vsctl(internal('p3'))).toMatchObject({ status: 0, stderr: '' });
    const ofports = (await sw.vsctl(['--bare', '--columns=name,ofport', 'list', 'Interface'])).stdout
      .trim()
      .split(/\n\n/)
      .map((b) => b.split('\n'));
    expect(Object.fromEntries(ofports)).toEqual({ br0: '65534', p0: '1', p1: '2', p2: '3', p3: '4' });
    expect((await sw.vports()).sort()).toEqual(['br0', 'ovs-system', 'p0', 'p1', 'p2', 'p3']);
    expect(sw.vswitchd.alive()).toBe(true);
  }, 180_000);
});
