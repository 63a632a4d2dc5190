/**
 * The command line, as ovs-vsctl's parse_options() (getopt_long, stopping at
 * the first non-option) and db-ctl-base's ctl_parse_commands() split it:
 * global options first (command options given there belong to the first
 * command), then commands separated by `--`, each with its own leading
 * options. Errors carry the real tool's texts.
 */
import { Getopt, GetoptError, type LongOption, type ParsedOption, STREAM_SSL_LONG_OPTIONS, type SslSettings, sslHandleOption } from '@ovs/util';

export class UsageError extends Error {}

export type TableFormat = 'list' | 'table' | 'json' | 'csv' | 'html';
export type CellFormat = 'string' | 'bare' | 'json';

export interface Style {
  format: TableFormat;
  cell: CellFormat;
  headings: boolean;
  pretty: boolean;
  maxColumnWidth: number;
}

export interface GlobalOptions {
  db?: string;
  noWait: boolean;
  dryRun: boolean;
  oneline: boolean;
  /** Seconds; 0 = none. */
  timeout: number;
  retry: boolean;
  help: boolean;
  version: boolean;
  style: Style;
  /** --private-key, --certificate, --ca-cert, --bootstrap-ca-cert, --peer-ca-cert (for ssl: and pssl: remotes). */
  ssl: SslSettings;
  /** -v/--verbose specs, in order (null: a bare -v). */
  verbose: (string | null)[];
  /** --trace[=tree|json|html FILE]: show the call path ovs-vswitchd took for this change. */
  trace?: TraceOutput;
}

/** Where --trace puts the trace: the terminal as a tree or JSON, or a sequence-diagram page in a file. */
export type TraceOutput = { format: 'tree' | 'json' } | { format: 'html'; file: string };

export interface ParsedCommand {
  /** argv[0] is the command name. */
  argv: string[];
  /** "--name" → value (null when the option takes none). */
  options: Map<string, string | null>;
}

export interface CommandSyntax {
  name: string;
  minArgs: number;
  maxArgs: number;
  /** As in the real tool: "--if-exists,--columns=". */
  options: string;
}

const GLOBAL: LongOption[] = [
  { name: 'db', arg: 'required' },
  { name: 'no-syslog', arg: 'no' },
  { name: 'no-wait', arg: 'no' },
  { name: 'dry-run', arg: 'no' },
  { name: 'oneline', arg: 'no' },
  { name: 'timeout', arg: 'required', short: 't' },
  { name: 'retry', arg: 'no' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'leader-only', arg: 'no' },
  { name: 'no-leader-only', arg: 'no' },
  { name: 'shuffle-remotes', arg: 'no' },
  { name: 'no-shuffle-remotes', arg: 'no' },
  { name: 'version', arg: 'no', short: 'V' },
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'format', arg: 'required', short: 'f' },
  { name: 'data', arg: 'required', short: 'd' },
  { name: 'no-headings', arg: 'no' },
  { name: 'pretty', arg: 'no' },
  { name: 'bare', arg: 'no' },
  { name: 'max-column-width', arg: 'required' },
  { name: 'trace', arg: 'optional' },
  ...STREAM_SSL_LONG_OPTIONS,
];

function commandOptionSpecs(commands: Iterable<CommandSyntax>): LongOption[] {
  const out = new Map<string, LongOption>();
  for (const c of commands) {
    for (const o of c.options.split(',').filter(Boolean)) {
      const m = /^--([^=?]+)([=?]?)$/.exec(o)!;
      out.set(m[1]!, { name: m[1]!, arg: m[2] === '=' ? 'required' : m[2] === '?' ? 'optional' : 'no' });
    }
  }
  return [...out.values()];
}

function parseStyleOption(style: Style, name: string, value: string): void {
  if (name === 'format') {
    if (!['table', 'list', 'html', 'csv', 'json'].includes(value)) throw new UsageError(`unknown output format "${value}"`);
    style.format = value as TableFormat;
  } else if (name === 'data') {
    if (!['string', 'bare', 'json'].includes(value)) throw new UsageError(`unknown data format "${value}"`);
    style.cell = value as CellFormat;
  }
}

/** Parses argv; returns the global options and the commands (not yet checked against their syntax). */
export function parseArgs(argv: string[], syntaxes: Map<string, CommandSyntax>): { global: GlobalOptions; commands: ParsedCommand[] } {
  const global: GlobalOptions = {
    noWait: false,
    dryRun: false,
    oneline: false,
    timeout: 0,
    retry: false,
    help: false,
    version: false,
    verbose: [],
    ssl: {},
    style: { format: 'list', cell: 'string', headings: true, pretty: false, maxColumnWidth: 0 },
  };
  const cmdSpecs = commandOptionSpecs(syntaxes.values());
  const specs = [...GLOBAL, ...cmdSpecs];
  const local = new Map<string, string | null>();

  const getopt = new Getopt(argv, specs, 'require-order');
  for (;;) {
    let parsed: ParsedOption<LongOption> | undefined;
    try {
      parsed = getopt.next();
    } catch (err) {
      if (err instanceof GetoptError) throw new UsageError(err.message);
      throw err;
    }
    if (!parsed) break;
    const spec = parsed.option;
    const value = parsed.value ?? null;
    if (cmdSpecs.includes(spec)) {
      // The real tool means to refuse a repeated option here but looks it up without its "--": it never does.
      local.set(`--${spec.name}`, value);
      continue;
    }
    switch (spec.name) {
      case 'db':
        global.db = value!;
        break;
      case 'no-wait':
        global.noWait = true;
        break;
      case 'dry-run':
        global.dryRun = true;
        break;
      case 'oneline':
        global.oneline = true;
        break;
      case 'retry':
        global.retry = true;
        break;
      case 'help':
        global.help = true;
        break;
      case 'version':
        global.version = true;
        break;
      case 'trace':
        if (value === null || value === 'tree' || value === 'json') global.trace = { format: value === 'json' ? 'json' : 'tree' };
        else if (value === 'html') {
          // --trace=html FILE: the page goes to FILE.
          const file = argv[getopt.optind];
          if (file === undefined || file.startsWith('-')) throw new UsageError("option '--trace=html' requires a FILE argument");
          global.trace = { format: 'html', file };
          getopt.optind++;
        } else throw new UsageError(`unknown trace format "${value}" (tree, json or html FILE)`);
        break;
      case 'timeout':
        if (!/^\d+$/.test(value!) || Number(value) === 0 || Number(value) > 4294967295) {
          throw new UsageError(`value ${value} on -t or --timeout is invalid`);
        }
        global.timeout = Number(value);
        break;
      case 'format':
      case 'data':
        parseStyleOption(global.style, spec.name, value!);
        break;
      case 'no-headings':
        global.style.headings = false;
        break;
      case 'pretty':
        global.style.pretty = true;
        break;
      case 'bare':
        global.style = { ...global.style, format: 'list', cell: 'bare', headings: false };
        break;
      case 'verbose':
        global.verbose.push(value);
        break;
      case 'max-column-width':
        global.style.maxColumnWidth = Number.parseInt(value!, 10) || 0;
        break;
      default:
        // SSL options set global.ssl; logging, syslog and cluster options: accepted, no effect here.
        sslHandleOption(global.ssl, spec.name, value ?? undefined);
        break;
    }
  }
  if (global.help || global.version) return { global, commands: [] };
  return { global, commands: splitCommands(argv.slice(getopt.optind), local, syntaxes) };
}

/** ctl_parse_commands() + parse_command(). */
function splitCommands(args: string[], local: Map<string, string | null>, syntaxes: Map<string, CommandSyntax>): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  let start = 0;
  for (let i = 0; i <= args.length; i++) {
    if (i < args.length && args[i] !== '--') continue;
    if (i > start) {
      commands.push(parseCommand(args.slice(start, i), commands.length === 0 ? local : new Map(), syntaxes));
    } else if (commands.length === 0 && local.size) {
      throw new UsageError('missing command name (use --help for help)');
    }
    start = i + 1;
  }
  if (!commands.length) throw new UsageError('missing command name (use --help for help)');
  return commands;
}

function parseCommand(args: string[], inherited: Map<string, string | null>, syntaxes: Map<string, CommandSyntax>): ParsedCommand {
  const options = new Map(inherited);
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (options.has(key)) throw new UsageError(`'${a}' option specified multiple times`);
    options.set(key, eq < 0 ? null : a.slice(eq + 1));
  }
  if (i === args.length) throw new UsageError('missing command name (use --help for help)');
  const name = args[i]!;
  const syntax = syntaxes.get(name);
  if (!syntax) throw new UsageError(`unknown command '${name}'; use --help for help`);
  for (const [key, value] of options) {
    // As the real tool: a substring search in the option list, then the character after it.
    const at = syntax.options.indexOf(key);
    const end = at < 0 ? undefined : syntax.options[at + key.length];
    if (at < 0 || (end !== undefined && !'=,? '.includes(end))) throw new UsageError(`'${name}' command has no '${key}' option`);
    if (end !== '?' && (end === '=') !== (value !== null)) {
      throw new UsageError(
        end === '=' ? `missing argument to '${key}' option on '${name}' command` : `'${key}' option on '${name}' does not accept an argument`,
      );
    }
  }
  const nArgs = args.length - i - 1;
  if (nArgs < syntax.minArgs) throw new UsageError(`'${name}' command requires at least ${syntax.minArgs} arguments`);
  if (nArgs > syntax.maxArgs) {
    const hint = args.slice(i + 1).some((a) => a.startsWith('-')) ? ' (note that options must precede command names and follow a "--" argument)' : '';
    throw new UsageError(`'${name}' command takes at most ${syntax.maxArgs} arguments${hint}`);
  }
  return { argv: args.slice(i), options };
}
