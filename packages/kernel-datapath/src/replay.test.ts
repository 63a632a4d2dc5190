/**
 * The judge: every exchange of the golden captures (real OVS 3.1 userspace
 * and tools against the real Linux 6.1 module) gets the same answer from the
 * model, byte for byte after the normalisations replay.ts lists.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayCapture } from './replay.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

describe.each(['raw-genl.json', 'dpctl-datapath.json', 'dpctl-ports.json', 'dpctl-errors.json', 'vswitchd-ports.json'])('replay %s', (file) => {
  it('every exchange matches the real kernel', () => {
    const report = replayCapture(JSON.parse(readFileSync(GOLDEN + file, 'utf8')), { verbose: true });
    const failures = report.lines.filter((l) => !l.startsWith('ok') && !l.startsWith('skip'));
    expect(failures.slice(0, 20)).toEqual([]);
    expect(report.failed).toBe(0);
    expect(report.passed).toBeGreaterThan(100);
    // Only what the model does not cover may be skipped: NETLINK_NETFILTER.
    expect(report.lines.filter((l) => l.startsWith('skip') && !l.includes('NETFILTER'))).toEqual([]);
  });
});
