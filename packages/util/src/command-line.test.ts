// getopt_long()'s behaviour and texts as glibc 2.36 (Debian 12) has them; the
// quoted messages are what Debian's ovs-vsctl / ovs-ofctl 3.1 print after
// "<program>: " for the same arguments.
import { describe, expect, it } from 'vitest';
import { Getopt, GetoptError, type LongOption, getoptLong } from './command-line.js';

const OPTIONS: LongOption[] = [
  { name: 'db', arg: 'required' },
  { name: 'no-wait', arg: 'no' },
  { name: 'no-syslog', arg: 'no' },
  { name: 'oneline', arg: 'no' },
  { name: 'timeout', arg: 'required', short: 't' },
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'more', arg: 'no', short: 'm' },
  { name: 'sort', arg: 'optional' },
];

const parse = (argv: string[], ordering: 'permute' | 'require-order' = 'permute') => {
  const g = new Getopt(argv, OPTIONS, ordering);
  const opts = g.all().map(({ option, value }) => (value === undefined ? option.name : `${option.name}=${value}`));
  return { opts, operands: g.operands, rest: argv.slice(g.optind) };
};
const error = (argv: string[]): string => {
  try {
    parse(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(GetoptError);
    return (err as Error).message;
  }
  throw new Error('no error');
};

describe('getopt_long', () => {
  it('takes exact names, unique abbreviations, =value and a separate value', () => {
    expect(parse(['--db=unix:x', '--one', '--time', '5', '--no-w']).opts).toEqual(['db=unix:x', 'oneline', 'timeout=5', 'no-wait']);
  });

  it('gives an optional argument only with =', () => {
    expect(parse(['--sort', 'show', '--sort=prio']).opts).toEqual(['sort', 'sort=prio']);
    expect(parse(['--sort', 'show']).operands).toEqual(['show']);
  });

  it('splits clusters of short options and takes an attached or following argument', () => {
    expect(parse(['-mmh']).opts).toEqual(['more', 'more', 'help']);
    expect(parse(['-mt5', '-t', '7', '-vdbg', '-v']).opts).toEqual(['more', 'timeout=5', 'timeout=7', 'verbose=dbg', 'verbose']);
  });

  it('permutes: operands may come between options; -- ends the options', () => {
    const r = parse(['show', '-m', 'br0', '--', '--db', '-h']);
    expect(r.opts).toEqual(['more']);
    expect(r.operands).toEqual(['show', 'br0', '--db', '-h']);
  });

  it("with require-order ('+'), stops at the first operand and leaves the rest", () => {
    expect(parse(['--oneline', 'add-br', 'br0', '--', '--may-exist'], 'require-order')).toEqual({
      opts: ['oneline'],
      operands: [],
      rest: ['add-br', 'br0', '--', '--may-exist'],
    });
    expect(parse(['-h', '--', '-x'], 'require-order').rest).toEqual(['-x']);
    expect(parse(['-', '-h'], 'require-order').rest).toEqual(['-', '-h']);
  });

  it("fails with glibc's texts", () => {
    expect(error(['--no'])).toBe("option '--no' is ambiguous; possibilities: '--no-wait' '--no-syslog'");
    expect(error(['--dbx=1'])).toBe("unrecognized option '--dbx'");
    expect(error(['--oneline=1'])).toBe("option '--oneline' doesn't allow an argument");
    expect(error(['--db'])).toBe("option '--db' requires an argument");
    expect(error(['-x'])).toBe("invalid option -- 'x'");
    expect(error(['-mmx'])).toBe("invalid option -- 'x'");
    expect(error(['-t'])).toBe("option requires an argument -- 't'");
  });
});

describe('getoptLong', () => {
  it('reads the whole command line: the last value of a repeated option, the operands in order', () => {
    const r = getoptLong(['show', '--db=a', '-m', 'br0', '--db', 'b'], OPTIONS);
    expect(r).toEqual({
      values: new Map([
        ['db', 'b'],
        ['more', undefined],
      ]),
      options: [
        { option: OPTIONS[0], value: 'a' },
        { option: OPTIONS[7], value: undefined },
        { option: OPTIONS[0], value: 'b' },
      ],
      operands: ['show', 'br0'],
    });
  });

  it("returns getopt's error instead of throwing", () => {
    expect(getoptLong(['--no'], OPTIONS)).toEqual({ error: "option '--no' is ambiguous; possibilities: '--no-wait' '--no-syslog'" });
  });
});
