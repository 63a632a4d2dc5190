/**
 * ovs-appctl [OPTIONS] COMMAND [ARG...] (utilities/ovs-appctl.c): one command
 * to a running daemon's control socket, its reply on stdout, or its error on
 * stderr and exit status 2.
 *
 * -t/--target TARGET: a path starting with '/' is the socket itself; any
 * other TARGET is a daemon name, found as read_pidfile() finds it (the pid of
 * the process holding $OVS_RUNDIR/TARGET.pid's lock), whose socket is
 * $OVS_RUNDIR/TARGET.PID.ctl (default: ovs-vswitchd). -T/--timeout SECS (or
 * $OVS_CTL_TIMEOUT): after SECS the tool dies of SIGALRM, as the real one. -e is
 * accepted and ignored (older versions' --execute), -o lists the options, and
 * the vlog options (-v SPEC, --log-file...) set this tool's own logging.
 * Options end at the first non-option: what follows is the command's.
 */
import { type Socket, connect } from 'node:net';
import {
  Getopt,
  GetoptError,
  JsonSplitter,
  type LongOption,
  OvsError,
  UnixctlError,
  VLOG_LONG_OPTIONS,
  Vlog,
  ovsRundir,
  ovsStrerror,
  readPidfile,
} from '@ovs/util';
import { VERSION } from './version.js';

const PROGRAM = 'ovs-appctl';

/** parse_command_line()'s long_options: the tool's own, then VLOG_LONG_OPTIONS. */
const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'target', arg: 'required', short: 't' },
  { name: 'execute', arg: 'no', short: 'e' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'option', arg: 'no', short: 'o' },
  { name: 'version', arg: 'no', short: 'V' },
  { name: 'timeout', arg: 'required', short: 'T' },
  ...VLOG_LONG_OPTIONS,
];

/** usage(). */
const USAGE = `${PROGRAM}, for querying and controlling Open vSwitch daemon
usage: ${PROGRAM} [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  -h, --help         Print this helpful information
  -V, --version      Display ovs-appctl version information
`;

/** ovs_cmdl_print_options(): each long option, and its short form. */
function printOptions(options: readonly LongOption[]): string {
  let s = '';
  for (const o of options) {
    const arg = o.arg === 'required' ? 'ARG' : '[ARG]';
    s += `--${o.name}${o.arg !== 'no' ? `=${arg}` : ''}\n`;
    if (o.short) s += `-${o.short} ${o.arg !== 'no' ? arg : ''}\n`;
  }
  return s;
}

/** str_to_uint(s, 10): a whole decimal number that fits an unsigned int (strtoll's leading blanks and sign allowed). */
function strToUint(s: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s.trim());
  return n >= 0 && n <= 0x7fffffff ? n : undefined;
}

/** The errno name an error carries (Node's and OvsError's `code`), EIO if none. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** The tool's exit status, thrown from where the C calls exit(). */
class Exit {
  constructor(readonly status: number) {}
}

export interface AppctlIo {
  out(s: string): void;
  err(s: string): void;
}

const stdio: AppctlIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export async function main(argv: string[], io: AppctlIo = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Tools log to the console at INFO and above (vlog's defaults), in the console pattern.
  const vlog = new Vlog({ program: PROGRAM, console: 'INFO', modules: ['daemon_unix', 'fatal_signal', 'unixctl', 'vlog'], env, stderr: { write: io.err } });
  /** ovs_fatal(): "ovs-appctl: TEXT" on stderr, exit status 1. */
  const fatal = (text: string): never => {
    io.err(`${PROGRAM}: ${text}\n`);
    throw new Exit(1);
  };
  let alarm: NodeJS.Timeout | undefined;
  try {
    const { target, timeout, operands } = parseCommandLine(argv, io, vlog, fatal);
    alarm = ctlTimeoutSetup(timeout, env, vlog);
    const socketName = connectToTarget(target, env, vlog, fatal);
    const [command, ...params] = operands;
    let sock: Socket;
    try {
      sock = await unixctlClientCreate(socketName);
    } catch (err) {
      vlog.log('WARN', 'unixctl', `failed to connect to ${socketName}`);
      return fatal(`cannot connect to "${socketName}" (${ovsStrerror(errorCode(err))})`);
    }
    let result: string;
    try {
      result = await unixctlClientTransact(sock, command!, params);
    } catch (err) {
      if (err instanceof UnixctlError) {
        io.err(err.message);
        io.err(`${PROGRAM}: ${target}: server returned an error\n`);
        return 2;
      }
      const code = errorCode(err);
      return fatal(`${target}: transaction error (${code === 'EOF' ? 'End of file' : ovsStrerror(code)})`);
    }
    io.out(result);
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.status;
    throw err;
  } finally {
    clearTimeout(alarm);
    vlog.close();
  }
}

/** parse_command_line(): the target (default ovs-vswitchd), the timeout, and the command with its arguments. */
function parseCommandLine(argv: string[], io: AppctlIo, vlog: Vlog, fatal: (text: string) => never): { target: string; timeout: number; operands: string[] } {
  // The optstring starts with '+': the first non-option ends the options.
  const getopt = new Getopt(argv, LONG_OPTIONS, 'require-order');
  let target: string | undefined;
  let eOptions = 0;
  let timeout = 0;
  for (;;) {
    let o: ReturnType<typeof getopt.next>;
    try {
      o = getopt.next();
    } catch (err) {
      if (err instanceof GetoptError) fatal(err.message);
      throw err;
    }
    if (o === undefined) break;
    const { option, value } = o;
    switch (option.name) {
      case 'target':
        if (target !== undefined) fatal('-t or --target may be specified only once');
        target = value!;
        break;
      case 'execute':
        // Ignored for compatibility: older versions took the command as -e's argument.
        if (eOptions++) fatal('-e or --execute may be speciifed only once');
        break;
      case 'help':
        io.out(USAGE);
        throw new Exit(0);
      case 'option':
        io.out(printOptions(LONG_OPTIONS));
        throw new Exit(0);
      case 'timeout': {
        const secs = strToUint(value!);
        if (!secs) fatal(`value ${value} on -T or --timeout is invalid`);
        timeout = secs!;
        break;
      }
      case 'version':
        io.out(`${PROGRAM} (Open vSwitch) ${VERSION}\n`);
        throw new Exit(0);
      default:
        try {
          vlog.handleOption(option.name, value);
        } catch (err) {
          if (err instanceof OvsError) fatal(err.message);
          throw err;
        }
    }
  }
  const operands = argv.slice(getopt.optind);
  if (operands.length === 0) fatal('at least one non-option argument is required (use --help for help)');
  return { target: target ?? 'ovs-vswitchd', timeout, operands };
}

/**
 * ctl_timeout_setup(): SECS, else $OVS_CTL_TIMEOUT; when it runs out, the tool logs the fatal
 * signal and dies of SIGALRM (exit status 142 in a shell), as time_alarm() makes the real one.
 */
function ctlTimeoutSetup(secs: number, env: NodeJS.ProcessEnv, vlog: Vlog): NodeJS.Timeout | undefined {
  if (!secs && env.OVS_CTL_TIMEOUT) secs = strToUint(env.OVS_CTL_TIMEOUT) ?? 0;
  if (!secs) return undefined;
  const timer = setTimeout(() => {
    vlog.log('WARN', 'fatal_signal', 'terminating with signal 14 (Alarm clock)');
    process.kill(process.pid, 'SIGALRM');
  }, secs * 1000);
  timer.unref();
  return timer;
}

/**
 * connect_to_target()'s socket name: TARGET itself if it starts with '/', else
 * RUNDIR/TARGET.PID.ctl with the pid read_pidfile() gives for RUNDIR/TARGET.pid.
 */
function connectToTarget(target: string, env: NodeJS.ProcessEnv, vlog: Vlog, fatal: (text: string) => never): string {
  if (target.startsWith('/')) return target;
  const rundir = ovsRundir(env);
  const pidfile = `${rundir}/${target}.pid`;
  let pid: number;
  try {
    pid = readPidfile(pidfile);
  } catch (err) {
    const code = errorCode(err);
    // read_pidfile() logs why it could not open the file; a stale one (ESRCH) is not logged.
    if (code !== 'ESRCH') vlog.log('WARN', 'daemon_unix', `${pidfile}: open: ${ovsStrerror(code)}`);
    return fatal(`cannot read pidfile "${pidfile}" (${ovsStrerror(code)})`);
  }
  return `${rundir}/${target}.${pid}.ctl`;
}

/** unixctl_client_create(): a connection to the socket, or the connect() error. */
function unixctlClientCreate(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

/**
 * unixctl_client_transact(): the request {"method", "params", "id"}, then the reply's result
 * text, or UnixctlError with its error text; EOF (the connection closed first) or a reply that is
 * not JSON-RPC is a transaction error.
 */
function unixctlClientTransact(sock: Socket, method: string, params: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const splitter = new JsonSplitter(64 << 20);
    const fail = (code: string) => {
      sock.destroy();
      reject(new OvsError(code, code));
    };
    sock.on('error', (err) => fail(errorCode(err)));
    sock.on('close', () => fail('EOF'));
    sock.on('data', (chunk) => {
      let texts: string[];
      try {
        texts = splitter.push(chunk);
      } catch {
        return fail('EPROTO');
      }
      for (const text of texts) {
        const r = JSON.parse(text) as { result?: unknown; error?: unknown };
        sock.removeAllListeners('close');
        sock.destroy();
        if (r.error !== null && r.error !== undefined) reject(new UnixctlError(typeof r.error === 'string' ? r.error : JSON.stringify(r.error)));
        else if (typeof r.result === 'string') resolve(r.result);
        else reject(new OvsError(ovsStrerror('EPROTO'), 'EPROTO'));
        return;
      }
    });
    sock.write(JSON.stringify({ method, params, id: 0 }));
  });
}
