/**
 * lib/coverage.c: coverage/show's lines, its hash and its averages, against the
 * real ovs-vswitchd 3.1.0's output.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { COVERAGE_RUN_INTERVAL, coverageDefine, coverageHash, coverageInit, coverageRead, coverageReset, coverageRun } from './coverage.js';
import { hashInt } from './hash.js';

/**
 * `ovs-appctl coverage/show` of Debian's ovs-vswitchd 3.1.0 (the oracle: OVSREF_PROFILE=system
 * ../shared/oracle/ovs-oracle.sh start; exec ovs-vsctl add-br br0; 6 s later exec ovs-appctl
 * coverage/show), 2026-12-07.
 */
const REAL = `Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=9cab945e:
bridge_reconfigure         0.4/sec     0.033/sec        0.0006/sec   total: 2
ofproto_flush              0.2/sec     0.017/sec        0.0003/sec   total: 1
ofproto_update_port        0.4/sec     0.033/sec        0.0006/sec   total: 2
rev_port_toggled           0.2/sec     0.017/sec        0.0003/sec   total: 1
rev_flow_table             0.2/sec     0.017/sec        0.0003/sec   total: 1
ccmap_shrink               4.8/sec     0.400/sec        0.0067/sec   total: 24
cmap_expand                7.8/sec     0.650/sec        0.0108/sec   total: 39
cmap_shrink                5.2/sec     0.433/sec        0.0072/sec   total: 26
dpif_port_add              0.2/sec     0.017/sec        0.0003/sec   total: 1
dpif_flow_flush            0.2/sec     0.017/sec        0.0003/sec   total: 1
dpif_flow_get              4.8/sec     0.400/sec        0.0067/sec   total: 24
dpif_flow_put              5.0/sec     0.417/sec        0.0069/sec   total: 25
dpif_flow_del              4.8/sec     0.400/sec        0.0067/sec   total: 24
dpif_execute               1.2/sec     0.100/sec        0.0017/sec   total: 6
flow_extract               0.8/sec     0.067/sec        0.0011/sec   total: 4
miniflow_malloc            2.4/sec     0.200/sec        0.0033/sec   total: 12
hmap_pathological          0.4/sec     0.033/sec        0.0006/sec   total: 2
hmap_expand              154.4/sec    12.867/sec        0.2144/sec   total: 860
netdev_get_stats           0.2/sec     0.017/sec        0.0003/sec   total: 2
txn_unchanged              0.2/sec     0.017/sec        0.0003/sec   total: 2
txn_incomplete             1.0/sec     0.083/sec        0.0014/sec   total: 5
txn_success                0.6/sec     0.050/sec        0.0008/sec   total: 3
poll_create_node         226.2/sec    18.850/sec        0.3142/sec   total: 1534
poll_zero_timeout          0.4/sec     0.033/sec        0.0006/sec   total: 2
seq_change               1152.4/sec    96.033/sec        1.6006/sec   total: 10943
pstream_open               0.6/sec     0.050/sec        0.0008/sec   total: 3
stream_open                0.2/sec     0.017/sec        0.0003/sec   total: 1
unixctl_received           1.0/sec     0.083/sec        0.0014/sec   total: 5
unixctl_replied            1.0/sec     0.083/sec        0.0014/sec   total: 5
util_xalloc              2385.6/sec   198.800/sec        3.3133/sec   total: 12643
netlink_received           0.4/sec     0.033/sec        0.0006/sec   total: 2
netlink_sent               0.2/sec     0.017/sec        0.0003/sec   total: 1
119 events never hit
`;

/** The same command on a fresh ovs-vswitchd before any counter had reached the totals. */
const REAL_EMPTY = 'Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=63852afc:\n151 events never hit\n';

const realLines = REAL.trimEnd().split('\n');
const realCounters = realLines.slice(1, -1).map((l) => {
  const m = /^(\S+)\s.*total: (\d+)$/.exec(l)!;
  return { name: m[1]!, total: Number(m[2]) };
});

describe('coverage (lib/coverage.c)', () => {
  beforeEach(() => coverageReset());

  it('hashes no hit counter as OVS does (hash_int(0, 0))', () => {
    expect(coverageHash()).toBe(0x63852afc);
    expect(hashInt(0, 0).toString(16)).toBe('63852afc');
    expect(REAL_EMPTY).toContain('hash=63852afc');
  });

  it("gives the real tool's hash for the real tool's totals, and its lines", () => {
    for (const { name, total } of realCounters) coverageDefine(name).add(total);
    // 119 counters never hit: the hash leaves them out, the last line counts them.
    for (let i = 0; i < 119; i++) coverageDefine(`never_${i}`);
    const lines = coverageRead();
    expect(lines[0]).toBe(realLines[0]);
    expect(lines.at(-1)).toBe('119 events never hit');
    expect(lines.slice(1, -1).map((l) => l.replace(/^(\S+)\s.*total: /, '$1 '))).toEqual(realCounters.map((c) => `${c.name} ${c.total}`));
  });

  it("averages over the last 5 seconds, minute and hour with the real tool's columns", () => {
    const t0 = 1_000_000;
    coverageRun(t0);
    // One interval: every count in one slot — the rates the real tool printed for these totals.
    for (const { name, total } of realCounters) coverageDefine(name).add(total);
    coverageRun(t0 + COVERAGE_RUN_INTERVAL);
    const lines = coverageRead();
    const pick = (name: string, from: string[]) => from.find((l) => l.startsWith(`${name} `));
    // The counters whose whole total fell in the real tool's last interval (the others had counts from earlier intervals).
    for (const name of ['bridge_reconfigure', 'ofproto_update_port', 'ccmap_shrink', 'cmap_expand', 'dpif_flow_put', 'txn_incomplete', 'unixctl_received']) {
      expect(pick(name, lines)).toBe(pick(name, realLines));
    }
  });

  it('spreads a late run over the slots that passed', () => {
    const c = coverageDefine('late_counter');
    coverageRun(0);
    c.add(7);
    coverageRun(3 * COVERAGE_RUN_INTERVAL);
    // 3 slots: 2, 2 and 2 + 7 % 3.
    expect(c.min.slice(0, 3)).toEqual([2, 2, 3]);
    expect(c.hr[0]).toBe(7);
    expect(coverageRead().find((l) => l.startsWith('late_counter'))).toBe('late_counter               0.6/sec     0.117/sec        0.0019/sec   total: 7');
  });

  it('registers coverage/show and coverage/read-counter with their usage and errors', async () => {
    const cmds = new Map<string, { usage: string; min: number; max: number; handler: (a: string[]) => string | Promise<string> }>();
    coverageInit({ register: (name, usage, min, max, handler) => cmds.set(name, { usage, min, max, handler }) });
    expect([...cmds.keys()]).toEqual(['coverage/show', 'coverage/read-counter']);
    expect(cmds.get('coverage/read-counter')).toMatchObject({ usage: 'COUNTER', min: 1, max: 1 });
    coverageDefine('bridge_reconfigure').inc();
    expect(await cmds.get('coverage/read-counter')!.handler(['bridge_reconfigure'])).toBe('1\n');
    // The real tool: "No such counter", exit status 2.
    expect(() => cmds.get('coverage/read-counter')!.handler(['nosuch'])).toThrow(/^No such counter$/);
    expect(await cmds.get('coverage/show')!.handler([])).toMatch(
      /^Event coverage, avg rate over last: 5 seconds, last minute, last hour, {2}hash=[0-9a-f]{8}:\n/,
    );
  });
});
