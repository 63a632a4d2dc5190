/**
 * Our ovs-vswitchd under Debian's real Open vSwitch 3.1 tools: the real
 * ovsdb-server (with the real vswitch schema) as the database, the real
 * ovs-vsctl configuring it and waiting for our daemon's cur_cfg, the kernel
 * model as the datapath. The Debian packages are installed when missing (as
 * @ovs/ovsdb's interop tests do); without them the test says why and stops.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kernel } from '@ovs/kernel-datapath';
import { type RealServer, ensureRealOvs, startRealServer } from '@ovs/ovsdb/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vlog } from '@ovs/util';
import { Vswitchd } from './vswitchd.js';

const real = ensureRealOvs();

describe.runIf(real.ok)('our ovs-vswitchd with the real ovsdb-server and ovs-vsctl', () => {
  let dir: string;
  let server: RealServer;
  let kernel: Kernel;
  let vswitchd: Vswitchd;
  // Asynchronously: our daemon runs in this process and must answer while ovs-vsctl waits for it.
  const vsctl = (...args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('ovs-vsctl', [`--db=${server.remote}`, '--timeout=20', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
      });
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vswitchd-real-'));
    server = await startRealServer(dir);
    expect((await vsctl('--no-wait', 'init')).status).toBe(0);
    kernel = new Kernel();
    vswitchd = await Vswitchd.start({ db: server.remote, socket: async (protocol) => kernel.socket({ protocol }), vlog: new Vlog(), pollIntervalMs: 50 });
  });
  afterAll(async () => {
    await vswitchd?.stop(true);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('add-br and add-port (waiting for cur_cfg), an error reported back, del-port', async () => {
    kernel.initNet.addDevice({ name: 'vethA', kind: 'dummy' });
    expect((await vsctl('add-br', 'br0')).status).toBe(0);
    expect((await vsctl('add-port', 'br0', 'vethA')).status).toBe(0);
    expect((await vsctl('add-port', 'br0', 'vx0', '--', 'set', 'Interface', 'vx0', 'type=vxlan', 'options:remote_ip=192.0.2.1')).status).toBe(0);
    const bad = await vsctl('add-port', 'br0', 'nosuchdev0');
    expect(bad.status).toBe(0);
    expect(bad.stderr).toContain("ovs-vsctl: Error detected while setting up 'nosuchdev0': could not open network device nosuchdev0 (No such device).");
    const list = await vsctl('--bare', '--columns=name,ofport', 'list', 'Interface');
    const ofports = Object.fromEntries(
      list.stdout
        .trim()
        .split(/\n\n/)
        .map((b) => b.split('\n') as [string, string]),
    );
    expect(ofports).toEqual({ br0: '65534', vethA: '1', vx0: '2', nosuchdev0: '-1' });
    expect((await vsctl('del-port', 'br0', 'vx0')).status).toBe(0);
    const dp = kernel.ovs!.datapaths()[0]!;
    expect(
      dp.buckets
        .flat()
        .map((v) => v.name)
        .sort(),
    ).toEqual(['br0', 'ovs-system', 'vethA']);
  });
});

describe.runIf(!real.ok)('our ovs-vswitchd with the real OVS tools', () => {
  it(`is not run here: ${real.reason}`, () => {
    expect(real.ok).toBe(false);
  });
});
