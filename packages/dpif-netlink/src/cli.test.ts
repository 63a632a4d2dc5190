// ovs-dpctl's option errors are getopt_long()'s, after the program name, with exit status 1 —
// the texts Debian's ovs-dpctl 3.1 prints for the same arguments.
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const status = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out, err };
};

describe('ovs-dpctl options', () => {
  it.each([
    [['--foo'], "ovs-dpctl: unrecognized option '--foo'"],
    [['-x'], "ovs-dpctl: invalid option -- 'x'"],
    [['--socket'], "ovs-dpctl: option '--socket' requires an argument"],
    [['--help=yes'], "ovs-dpctl: option '--help' doesn't allow an argument"],
  ])('%j fails as getopt_long does', async (argv, text) => {
    expect(await run(argv)).toEqual({ status: 1, out: [], err: [text] });
  });

  it('--help and -h print the usage', async () => {
    for (const argv of [['--help'], ['-h'], ['show', '--he']]) {
      const r = await run(argv);
      expect(r.status).toBe(0);
      expect(r.out[0]).toMatch(/^ovs-dpctl: Open vSwitch datapath management utility\nusage: ovs-dpctl \[OPTIONS\] COMMAND \[ARG\.\.\.\]/);
    }
  });
});
