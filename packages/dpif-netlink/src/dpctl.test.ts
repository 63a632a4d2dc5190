/**
 * ovs-dpctl against the kernel model prints what the real ovs-dpctl printed
 * against the real kernel, step by step (the `steps` of the golden dpctl
 * captures), with the same exit status. Only values that legitimately differ
 * are normalised: log timestamps, and traffic counters (the model has no
 * packet path, the captured machine had ND/ARP traffic).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IFF } from '@ovs/genl-codec';
import { Kernel } from '@ovs/kernel-datapath';
import { describe, expect, it } from 'vitest';
import { runDpctl } from './dpctl.js';

const GOLDEN = fileURLToPath(new URL('../../../../shared/golden/', import.meta.url));

interface Step {
  cmd: string;
  exit: number;
  output: string;
}

function normalise(text: string): string {
  return text
    .replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|')
    .replace(/(lookups: hit:)\d+ missed:\d+ lost:\d+/g, '$1N missed:N lost:N')
    .replace(/(packets|bytes|errors|dropped):\d+/g, '$1:N');
}

describe.each(['dpctl-datapath.json', 'dpctl-ports.json', 'dpctl-errors.json'])('ovs-dpctl steps of %s', (file) => {
  it('prints the same text and exits with the same status as the real one', async () => {
    const capture = JSON.parse(readFileSync(GOLDEN + file, 'utf8')) as { steps: Step[]; setup: { devices: Array<{ name: string; kind: string; peer?: string; up?: boolean }> } };
    const kernel = new Kernel();
    for (const d of capture.setup.devices) {
      const dev = kernel.initNet.addDevice({ name: d.name, kind: d.kind });
      if (d.peer) {
        const peer = kernel.initNet.addDevice({ name: d.peer, kind: 'veth' });
        dev.peer = peer;
        peer.peer = dev;
      }
      if (d.up) dev.flags |= IFF.UP;
    }
    let checked = 0;
    for (const step of capture.steps) {
      if (!step.cmd.startsWith('ovs-dpctl ')) continue; // `ip -d link show` and the like are not ours
      const lines: string[] = [];
      const code = await runDpctl(step.cmd.split(/\s+/).slice(1), {
        out: (l) => lines.push(l),
        err: (l) => lines.push(l),
        socket: async (protocol) => kernel.socket({ protocol }),
      });
      expect(normalise(lines.join('\n')), step.cmd).toBe(normalise(step.output));
      expect(code, step.cmd).toBe(step.exit);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });
});
