/**
 * ovs-ofctl (utilities/ovs-ofctl.c of Open vSwitch 3.1): option parsing as
 * getopt_long does it, and the `show` command with its exact output, request
 * sequence and error texts.
 */
import { join } from 'node:path';
import { Getopt, GetoptError, type LongOption } from '@ovs/util';
import { decodeHeader, decodeMessage, type OfpMessage, phyPortLen } from './codec.js';
import { OFP13_VERSION, OFP15_VERSION, OFP_VERSION_NAMES, OFPP_ANY } from './constants.js';
import { portToOfp11 } from './port.js';
import { formatMessage } from './print.js';
import { strerror, Vconn, VconnError, XidAllocator } from './vconn.js';

/** runOfctl()'s status when -t/--timeout expires: 128 + SIGALRM, what a shell reports for a program killed by SIGALRM (bin/ovs-ofctl.js raises the signal itself). */
export const ALARM_EXIT = 142;

/** What ovs-ofctl --version reports (the OVS release this package follows). */
export const OVS_VERSION = '3.1.0';

/**
 * $OVS_RUNDIR, else this project's default /tmp/ovs-ts-$UID (the same rule as
 * @ovs/vswitchd's paths.ts, duplicated here to keep this package free of that
 * dependency; real OVS defaults to /var/run/openvswitch).
 */
export function rundir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_RUNDIR || join('/tmp', `ovs-ts-${process.getuid?.() ?? 0}`);
}

export interface OfctlIo {
  /** Text for stdout, newlines included. */
  out: (s: string) => void;
  /** Text for stderr, newlines included. */
  err: (s: string) => void;
}

/** A fatal error: ovs_fatal()'s "ovs-ofctl: TEXT" and exit status 1. */
export class OfctlFatal extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

const fatal = (text: string, errCode?: string): never => {
  throw new OfctlFatal(errCode ? `${text} (${strerror(errCode)})` : text);
};

// ---------------------------------------------------------------- options

/** ovs-ofctl's long options (parse_options() with the daemon, version, vlog and SSL option sets). */
const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'timeout', arg: 'required', short: 't' },
  { name: 'strict', arg: 'no' },
  { name: 'readd', arg: 'no' },
  { name: 'flow-format', arg: 'required', short: 'F' },
  { name: 'packet-in-format', arg: 'required', short: 'P' },
  { name: 'more', arg: 'no', short: 'm' },
  { name: 'timestamp', arg: 'no' },
  { name: 'sort', arg: 'optional' },
  { name: 'rsort', arg: 'optional' },
  { name: 'names', arg: 'no' },
  { name: 'no-names', arg: 'no' },
  { name: 'stats', arg: 'no' },
  { name: 'no-stats', arg: 'no' },
  { name: 'unixctl', arg: 'required' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'option', arg: 'no', short: 'o' },
  { name: 'bundle', arg: 'no' },
  { name: 'color', arg: 'optional' },
  { name: 'may-create', arg: 'no' },
  { name: 'pcap', arg: 'no' },
  { name: 'raw', arg: 'no' },
  { name: 'read-only', arg: 'no' },
  // DAEMON_LONG_OPTIONS
  { name: 'detach', arg: 'no' },
  { name: 'no-chdir', arg: 'no' },
  { name: 'pidfile', arg: 'optional' },
  { name: 'overwrite-pidfile', arg: 'no' },
  { name: 'monitor', arg: 'no' },
  { name: 'user', arg: 'required' },
  { name: 'no-self-confinement', arg: 'no' },
  // OFP_VERSION_LONG_OPTIONS
  { name: 'version', arg: 'no', short: 'V' },
  { name: 'protocols', arg: 'required', short: 'O' },
  // VLOG_LONG_OPTIONS
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'syslog-method', arg: 'required' },
  { name: 'syslog-target', arg: 'required' },
  // STREAM_SSL_LONG_OPTIONS
  { name: 'private-key', arg: 'required', short: 'p' },
  { name: 'certificate', arg: 'required', short: 'c' },
  { name: 'ca-cert', arg: 'required', short: 'C' },
  { name: 'ssl-protocols', arg: 'required' },
  { name: 'ssl-ciphers', arg: 'required' },
];

export interface OfctlOptions {
  help: boolean;
  version: boolean;
  /** Allowed OpenFlow versions bitmap: OpenFlow 1.0 only unless -O. */
  allowedVersions: number;
  verbosity: number;
  timeoutSecs: number;
}

/** ofputil_versions_from_string(): "OpenFlow10,OpenFlow13" (commas or spaces), case-insensitive. */
export function versionsFromString(s: string): number {
  let bitmap = 0;
  for (const key of s.split(/[\s,]+/).filter(Boolean)) {
    const v = Object.entries(OFP_VERSION_NAMES).find(([, name]) => name.toLowerCase() === key.toLowerCase());
    if (!v) fatal(`Unknown OpenFlow version: "${key}"`);
    bitmap |= 1 << Number(v![0]);
  }
  return bitmap;
}

/** getopt_long() with GNU argument permutation, then parse_options()'s checks. Returns the options and the command words. */
export function parseOptions(argv: readonly string[]): { options: OfctlOptions; args: string[] } {
  const options: OfctlOptions = { help: false, version: false, allowedVersions: 1 << 1, verbosity: 0, timeoutSecs: 0 };
  const apply = (opt: LongOption, value: string | undefined): void => {
    switch (opt.name) {
      case 'help':
        options.help = true;
        break;
      case 'version':
        options.version = true;
        break;
      case 'more':
        options.verbosity++;
        break;
      case 'protocols':
        options.allowedVersions = versionsFromString(value ?? '');
        break;
      case 'timeout': {
        const n = /^\d+$/.test(value ?? '') ? Number(value) : NaN;
        if (!Number.isSafeInteger(n) || n <= 0 || n > 0xffffffff) fatal(`value ${value} on -t or --timeout is invalid`);
        options.timeoutSecs = n;
        break;
      }
      default:
        // Accepted for compatibility; nothing `show` does depends on them.
        break;
    }
  };
  const getopt = new Getopt(argv, LONG_OPTIONS);
  try {
    for (let o = getopt.next(); o; o = getopt.next()) apply(o.option, o.value);
  } catch (err) {
    if (err instanceof GetoptError) fatal(err.message);
    throw err;
  }
  const args = getopt.operands;
  return { options, args };
}

// ---------------------------------------------------------------- usage

export function usage(): string {
  return `ovs-ofctl: OpenFlow switch management utility
usage: ovs-ofctl [OPTIONS] COMMAND [ARG...]

For OpenFlow switches:
  show SWITCH                 show OpenFlow information
SWITCH or TARGET is an active OpenFlow connection method.

(This ovs-ofctl implements "show" only.)

Active OpenFlow connection methods:
  unix:FILE               Unix domain socket named FILE
A bare bridge name BR means $OVS_RUNDIR/BR.mgmt.

OpenFlow version options:
  -V, --version           display version information
  -O, --protocols         set allowed OpenFlow versions
                          (default: OpenFlow10, OpenFlow11, OpenFlow12, OpenFlow13, OpenFlow14, OpenFlow15)

Other options:
  -m, --more                  be more verbose printing OpenFlow
  -t, --timeout=SECS          give up after SECS seconds
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

/** The commands of the real ovs-ofctl that this one does not implement (so they are not "unknown"). */
const UNIMPLEMENTED = new Set(
  'dump-desc dump-tables dump-table-features dump-table-desc mod-port mod-table get-frags set-frags dump-ports dump-ports-desc dump-flows dump-aggregate queue-stats add-flow add-flows mod-flows del-flows replace-flows diff-flows packet-out monitor snoop add-group add-groups mod-group del-groups insert-buckets remove-buckets dump-group-features dump-groups dump-group-stats queue-get-config add-meter mod-meter del-meters dump-meters meter-stats meter-features add-tlv-map del-tlv-map dump-tlv-map dump-ipfix-bridge dump-ipfix-flow ct-flush-zone ct-flush probe ping benchmark ofp-parse ofp-parse-pcap'.split(
    ' ',
  ),
);

// ---------------------------------------------------------------- connections

interface Session {
  options: OfctlOptions;
  xids: XidAllocator;
  env: NodeJS.ProcessEnv;
  io: OfctlIo;
  vconns: Set<Vconn>;
  vlogSeq: number;
}

/**
 * VLOG to the console: ovs-ofctl logs at INFO and above to stderr in the
 * default pattern "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c|%p|%m".
 */
function vlog(s: Session, level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void {
  if (level === 'DBG') return;
  const time = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  s.io.err(`${time}|${String(++s.vlogSeq).padStart(5, '0')}|${module}|${level}|${text.replace(/\n$/, '')}\n`);
}

/** dp_parse_name(): "type@name" -> name. */
function datapathName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(at + 1);
}

/** abs_file_name(ovs_rundir(), path) as stream-unix.c resolves "unix:PATH". */
function unixPath(env: NodeJS.ProcessEnv, path: string): string {
  if (path.startsWith('/')) return path;
  const dir = rundir(env);
  return `${dir}${dir.endsWith('/') ? '' : '/'}${path}`;
}

/** vconn_open() for the names ovs-ofctl accepts here: "unix:PATH" (other methods: EAFNOSUPPORT, like an unknown one). */
async function vconnOpen(s: Session, name: string): Promise<Vconn> {
  const colon = name.indexOf(':');
  const method = name.slice(0, colon);
  if (method !== 'unix') throw new VconnError('EAFNOSUPPORT');
  const v = await Vconn.open(name, unixPath(s.env, name.slice(colon + 1)), {
    allowedVersions: s.options.allowedVersions,
    xids: s.xids,
    log: (level, module, text) => vlog(s, level, module, text),
  });
  s.vconns.add(v);
  return v;
}

/** open_vconn__(): a name with ':' is a connection method; otherwise NAME, $OVS_RUNDIR/NAME.mgmt, $OVS_RUNDIR/DP.mgmt. */
async function openVconn(s: Session, name: string): Promise<Vconn> {
  let vconn: Vconn | undefined;
  if (name.includes(':')) {
    try {
      vconn = await vconnOpen(s, name);
    } catch (err) {
      fatal(`connecting to ${name}`, errCode(err));
    }
  } else {
    const dir = rundir(s.env);
    for (const path of [name, join(dir, `${name}.mgmt`), join(dir, `${datapathName(name)}.mgmt`)]) {
      try {
        vconn = await vconnOpen(s, `unix:${path}`);
        break;
      } catch (err) {
        const code = errCode(err);
        if (code !== 'ENOENT') fatal(`${path}: failed to open socket`, code);
      }
    }
    if (!vconn) fatal(`${name} is not a bridge or a socket`);
  }
  try {
    await vconn!.connect();
  } catch (err) {
    fatal(`${name}: failed to connect to socket`, errCode(err));
  }
  return vconn!;
}

function errCode(err: unknown): string {
  if (err instanceof VconnError) return err.code;
  throw err;
}

function closeVconn(s: Session, v: Vconn): void {
  v.close();
  s.vconns.delete(v);
}

const print = (s: Session, bytes: Uint8Array): void => s.io.out(formatMessage(bytes, s.options.verbosity + 1));

/** dump_transaction(): a request and its reply (or, for a stats request, all its replies). */
async function dumpTransaction(s: Session, vconn: Vconn, request: OfpMessage): Promise<void> {
  const isStats = request.type === 'PORT_DESC_REQUEST';
  if (!isStats) {
    let reply: Uint8Array;
    try {
      reply = await vconn.transact(request);
    } catch (err) {
      return fatal(`talking to ${vconn.name}`, errCode(err));
    }
    print(s, reply);
    return;
  }
  try {
    vconn.send(request);
  } catch (err) {
    fatal('failed to send packet to switch', errCode(err));
  }
  for (let done = false; !done; ) {
    let reply: Uint8Array;
    try {
      reply = await vconn.recv();
    } catch (err) {
      return fatal('OpenFlow packet receive failed', errCode(err));
    }
    const h = decodeHeader(reply)!;
    if (h.xid !== request.xid) continue;
    print(s, reply);
    const r = decodeMessage(reply);
    if (r.ok && r.message.type === 'ERROR') done = true;
    else if (r.ok && r.message.type === 'PORT_DESC_REPLY') done = (r.message.flags & 1) === 0;
    else fatal(`received bad reply: ${formatMessage(reply, s.options.verbosity + 1)}`);
  }
}

/**
 * ofputil_switch_features_has_ports(): whether the features reply lists every
 * port; if not (1.3+, or no room for another port), the ports are cut off.
 */
export function switchFeaturesHasPorts(reply: Uint8Array): { hasPorts: boolean; reply: Uint8Array } {
  const h = decodeHeader(reply)!;
  if (h.version >= OFP13_VERSION) return { hasPorts: false, reply };
  if (h.length + phyPortLen(h.version) <= 0xffff) return { hasPorts: true, reply };
  const cut = reply.slice(0, 32);
  cut[2] = 0;
  cut[3] = 32;
  return { hasPorts: false, reply: cut };
}

/** ofctl_show(). */
async function ofctlShow(s: Session, name: string): Promise<void> {
  const vconn = await openVconn(s, name);
  const version = vconn.version;
  let reply: Uint8Array;
  try {
    reply = await vconn.transact({ type: 'FEATURES_REQUEST', version, xid: s.xids.alloc() });
  } catch (err) {
    return fatal(`talking to ${name}`, errCode(err));
  }
  const f = switchFeaturesHasPorts(reply);
  print(s, f.reply);
  if (!f.hasPorts) {
    const xid = s.xids.alloc();
    const request =
      version >= OFP15_VERSION
        ? { type: 'PORT_DESC_REQUEST' as const, version, xid, flags: 0, portNo: portToOfp11(OFPP_ANY) }
        : { type: 'PORT_DESC_REQUEST' as const, version, xid, flags: 0 };
    await dumpTransaction(s, vconn, request);
  }
  // dump_trivial_transaction(): a second connection for OFPT_GET_CONFIG_REQUEST.
  const vconn2 = await openVconn(s, name);
  await dumpTransaction(s, vconn2, { type: 'GET_CONFIG_REQUEST', version: vconn2.version, xid: s.xids.alloc() });
  closeVconn(s, vconn2);
  closeVconn(s, vconn);
}

/**
 * Runs ovs-ofctl with `argv` (without the program name); returns the exit
 * status. Output goes through `io` exactly as the real program writes it.
 */
export async function runOfctl(argv: readonly string[], io: OfctlIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const s: Session = {
    options: { help: false, version: false, allowedVersions: 2, verbosity: 0, timeoutSecs: 0 },
    xids: new XidAllocator(),
    env,
    io,
    vconns: new Set(),
    vlogSeq: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const { options, args } = parseOptions(argv);
    s.options = options;
    if (options.help) {
      io.out(usage());
      return 0;
    }
    if (options.version) {
      io.out(`ovs-ofctl (Open vSwitch) ${OVS_VERSION}\nOpenFlow versions 0x1:0x6\n`);
      return 0;
    }
    const run = runCommand(s, args);
    if (!options.timeoutSecs) {
      await run;
      return 0;
    }
    run.catch(() => undefined); // settles after the alarm: the connections are closed by then
    // ctl_timeout_setup(): SIGALRM when the time is up; fatal_signal logs it and the program dies of it (the shell sees 142).
    const alarm = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        vlog(s, 'WARN', 'fatal_signal', 'terminating with signal 14 (Alarm clock)');
        resolve(ALARM_EXIT);
      }, options.timeoutSecs * 1000);
    });
    return await Promise.race([run.then(() => 0), alarm]);
  } catch (err) {
    if (err instanceof OfctlFatal) {
      io.err(`ovs-ofctl: ${err.message}\n`);
      return err.code;
    }
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
    for (const v of s.vconns) v.close();
  }
}

async function runCommand(s: Session, args: string[]): Promise<void> {
  const [cmd, ...rest] = args;
  if (cmd === undefined) fatal('missing command name; use --help for help');
  if (cmd === 'show') {
    if (rest.length < 1) fatal("'show' command requires at least 1 arguments");
    if (rest.length > 1) fatal("'show' command takes at most 1 arguments");
    return ofctlShow(s, rest[0]!);
  }
  if (UNIMPLEMENTED.has(cmd!)) fatal(`'${cmd}' command is not implemented in this ovs-ofctl (only 'show' is)`);
  fatal(`unknown command '${cmd}'; use --help for help`);
}
