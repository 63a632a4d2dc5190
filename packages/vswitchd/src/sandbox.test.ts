/**
 * ovs-sandbox as a user runs it (the built bin, real processes: the
 * ovs-kernel daemon, ovs-db serve, ovs-vswitchd, and the tools on PATH): the
 * seeds' flow script prints what real OVS prints for the same steps — the
 * OpenFlow and datapath port numbers follow the oracle's rules
 * (../shared/oracle/results.md), the kernel datapath's names for its types —
 * and the sandbox's exit status is the command's.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  it("exits with its command's status and leaves no daemon behind", () => {
    const r = sandbox('sh', '-c', 'echo "$OVS_RUNDIR"; exit 3');
    expect(r.status).toBe(3);
    const dir = r.stdout.trim();
    // The daemons' pid files are gone with them.
    expect(spawnSync('sh', ['-c', `ls ${dir}/*.pid 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim()).toBe('0');
  }, 120_000);
});
