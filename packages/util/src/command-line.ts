/**
 * GNU getopt_long() as OVS's tools use it (through lib/command-line.c's
 * ovs_cmdl_long_options_to_short_options()): long options matched exactly or
 * by a unique abbreviation, `--name=value` or `--name value`, clustered short
 * options (`-hv`, `-t5`), `--` ending the options, and glibc's error texts.
 *
 * Two orderings, as the optstring's first character selects them:
 * - 'permute' (the default): options and operands may be mixed; the operands
 *   are collected in order (ovs-ofctl, ovs-appctl);
 * - 'require-order' (a leading '+'): the first operand ends the options and
 *   everything from it on is left for the caller (ovs-vsctl, whose commands
 *   carry options of their own).
 */

export interface LongOption {
  readonly name: string;
  /** no_argument, required_argument or optional_argument. */
  readonly arg: 'no' | 'required' | 'optional';
  /** The short option letter, when the option has one. */
  readonly short?: string;
}

export interface ParsedOption<O extends LongOption = LongOption> {
  readonly option: O;
  /** The argument; undefined when none was given (no_argument, or an absent optional one). */
  readonly value: string | undefined;
}

/** What getopt_long() prints to stderr before the tool gives up, without the program name. */
export class GetoptError extends Error {
  override readonly name = 'GetoptError';
}

export class Getopt<O extends LongOption = LongOption> {
  /** The index of the next argv element to look at (getopt's optind). */
  optind = 0;
  /** With 'permute': the operands met so far, in order, and all after `--`. */
  readonly operands: string[] = [];
  /** Inside a cluster of short options: where the next letter is (getopt's nextchar). */
  private nextchar = 0;
  private readonly byShort: ReadonlyMap<string, O>;

  constructor(
    readonly argv: readonly string[],
    readonly options: readonly O[],
    readonly ordering: 'permute' | 'require-order' = 'permute',
  ) {
    this.byShort = new Map(options.filter((o) => o.short !== undefined).map((o) => [o.short!, o]));
  }

  /** The next option, or undefined once the options end (then operands / argv.slice(optind) hold the rest). Throws GetoptError. */
  next(): ParsedOption<O> | undefined {
    if (this.nextchar > 0) return this.shortOption();
    for (;;) {
      const arg = this.argv[this.optind];
      if (arg === undefined) return undefined;
      if (arg === '--') {
        this.optind++;
        if (this.ordering === 'permute') {
          this.operands.push(...this.argv.slice(this.optind));
          this.optind = this.argv.length;
        }
        return undefined;
      }
      if (arg.startsWith('--')) {
        this.optind++;
        return this.longOption(arg);
      }
      if (arg.startsWith('-') && arg.length > 1) {
        this.nextchar = 1;
        return this.shortOption();
      }
      if (this.ordering === 'require-order') return undefined;
      this.operands.push(arg);
      this.optind++;
    }
  }

  /** All options at once, for tools that need no look at argv in between. */
  all(): ParsedOption<O>[] {
    const out: ParsedOption<O>[] = [];
    for (let o = this.next(); o; o = this.next()) out.push(o);
    return out;
  }

  private longOption(arg: string): ParsedOption<O> {
    const eq = arg.indexOf('=');
    const written = eq < 0 ? arg : arg.slice(0, eq);
    const name = written.slice(2);
    const exact = this.options.find((o) => o.name === name);
    const matches = exact ? [exact] : this.options.filter((o) => o.name.startsWith(name));
    if (matches.length === 0) throw new GetoptError(`unrecognized option '${written}'`);
    if (matches.length > 1) throw new GetoptError(`option '${written}' is ambiguous; possibilities:${matches.map((o) => ` '--${o.name}'`).join('')}`);
    const option = matches[0]!;
    if (eq >= 0) {
      if (option.arg === 'no') throw new GetoptError(`option '--${option.name}' doesn't allow an argument`);
      return { option, value: arg.slice(eq + 1) };
    }
    if (option.arg !== 'required') return { option, value: undefined };
    const value = this.argv[this.optind];
    if (value === undefined) throw new GetoptError(`option '--${option.name}' requires an argument`);
    this.optind++;
    return { option, value };
  }

  private shortOption(): ParsedOption<O> {
    const arg = this.argv[this.optind]!;
    const c = arg[this.nextchar++]!;
    const rest = arg.slice(this.nextchar);
    const option = this.byShort.get(c);
    const endOfCluster = (): void => {
      this.nextchar = 0;
      this.optind++;
    };
    if (rest === '' || (option && option.arg !== 'no')) endOfCluster();
    if (!option) throw new GetoptError(`invalid option -- '${c}'`);
    if (option.arg === 'no') return { option, value: undefined };
    if (rest !== '') return { option, value: rest };
    if (option.arg === 'optional') return { option, value: undefined };
    const value = this.argv[this.optind];
    if (value === undefined) throw new GetoptError(`option requires an argument -- '${c}'`);
    this.optind++;
    return { option, value };
  }
}

/** A command line read all at once: each option by name (a repeated one keeps its last value) and the operands. */
export interface CommandLine<O extends LongOption = LongOption> {
  readonly values: ReadonlyMap<string, string | undefined>;
  /** Every option in command-line order, repeats included (`-vconsole:off -vfile:dbg`), for handlers that act on each. */
  readonly options: ParsedOption<O>[];
  readonly operands: string[];
}

/**
 * For tools that act on options only after reading them all: the whole command line, or getopt's
 * error text (which the tool prints after its name before exiting with status 1).
 */
export function getoptLong<O extends LongOption>(argv: readonly string[], options: readonly O[]): CommandLine<O> | { readonly error: string } {
  const getopt = new Getopt(argv, options);
  const values = new Map<string, string | undefined>();
  const parsed: ParsedOption<O>[] = [];
  try {
    for (let o = getopt.next(); o; o = getopt.next()) {
      values.set(o.option.name, o.value);
      parsed.push(o);
    }
  } catch (err) {
    if (err instanceof GetoptError) return { error: err.message };
    throw err;
  }
  return { values, options: parsed, operands: getopt.operands };
}
