/**
 * lib/vlog.c: OVS's logging. Named modules, each with a level per destination
 * (console, syslog, file); patterns per destination (format_log_message());
 * the log file opened, reopened (logrotate) and closed; `-v`/`--verbose`
 * specs as vlog_set_levels_from_string() reads them; rate limits; and the
 * `vlog/...` unixctl commands a daemon registers with one call.
 */
import { createSocket } from 'node:dgram';
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { LongOption } from './command-line.js';
import { ovsLogdir } from './dirs.js';
import { OvsError, errorCode, ovsStrerror } from './strerror.js';
import type { UnixctlServer } from './unixctl.js';

/** enum vlog_level, least to most verbose. */
export const VLOG_LEVELS = ['OFF', 'EMER', 'ERR', 'WARN', 'INFO', 'DBG'] as const;
export type VlogLevel = (typeof VLOG_LEVELS)[number];
/** A level a message is logged at. */
export type Level = Exclude<VlogLevel, 'OFF'>;

/** enum vlog_destination, in OVS's order (VLOG_DESTINATIONS). */
export const VLOG_DESTINATIONS = ['syslog', 'console', 'file'] as const;
export type VlogDestination = (typeof VLOG_DESTINATIONS)[number];

/** VLOG_DESTINATIONS' default patterns. */
export const VLOG_DEFAULT_PATTERNS: Readonly<Record<VlogDestination, string>> = {
  syslog: 'ovs|%05N|%c%T|%p|%m',
  console: '%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m',
  file: '%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m',
};

/** VLOG_LEVELS' syslog severities (OFF and EMER are LOG_ALERT). */
const SYSLOG_LEVELS: Readonly<Record<VlogLevel, number>> = { OFF: 1, EMER: 1, ERR: 3, WARN: 4, INFO: 5, DBG: 7 };

/** vlog_facilities[]. */
const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0 << 3,
  user: 1 << 3,
  mail: 2 << 3,
  daemon: 3 << 3,
  auth: 4 << 3,
  syslog: 5 << 3,
  lpr: 6 << 3,
  news: 7 << 3,
  uucp: 8 << 3,
  clock: 9 << 3,
  ftp: 11 << 3,
  ntp: 12 << 3,
  audit: 13 << 3,
  alert: 14 << 3,
  clock2: 15 << 3,
  local0: 16 << 3,
  local1: 17 << 3,
  local2: 18 << 3,
  local3: 19 << 3,
  local4: 20 << 3,
  local5: 21 << 3,
  local6: 22 << 3,
  local7: 23 << 3,
};

const rank = (l: VlogLevel): number => VLOG_LEVELS.indexOf(l);

/** vlog_get_level_val(): a level by name, any case, or undefined. */
export function vlogLevelVal(name: string): VlogLevel | undefined {
  return VLOG_LEVELS.find((l) => l.toLowerCase() === name.toLowerCase());
}

/** vlog_get_destination_val(): a destination by name, any case, or undefined. */
export function vlogDestinationVal(name: string): VlogDestination | undefined {
  return VLOG_DESTINATIONS.find((d) => d === name.toLowerCase());
}

/** VLOG_LONG_OPTIONS: what every OVS daemon (and most tools) take for logging. */
export const VLOG_LONG_OPTIONS: readonly LongOption[] = [
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'syslog-method', arg: 'required' },
  { name: 'syslog-target', arg: 'required' },
];

/** struct vlog_module. */
export interface VlogModule {
  readonly name: string;
  readonly levels: Record<VlogDestination, VlogLevel>;
  honorRateLimits: boolean;
}

/**
 * struct vlog_rate_limit: a token bucket of RATE messages a minute with a
 * burst of BURST (VLOG_RATE_LIMIT_INIT(RATE, BURST)), and the count of what
 * it dropped.
 */
export class VlogRateLimit {
  private tokens: number;
  private last: number;
  nDropped = 0;
  firstDropped = 0;
  lastDropped = 0;

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.tokens = burst * VLOG_MSG_TOKENS;
    this.last = Number.NEGATIVE_INFINITY;
  }

  /** token_bucket_withdraw(). */
  withdraw(n: number, nowMs: number): boolean {
    if (this.tokens < n) {
      if (this.last === Number.NEGATIVE_INFINITY) this.last = nowMs;
      const elapsed = Math.max(0, nowMs - this.last);
      this.tokens = Math.min(this.burst * VLOG_MSG_TOKENS, this.tokens + elapsed * this.rate);
      this.last = nowMs;
    }
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** VLOG_MSG_TOKENS: the tokens one message costs (a minute's worth of ms). */
const VLOG_MSG_TOKENS = 60 * 1000;

export interface VlogOptions {
  /** program_name, for %A and the default log file name. */
  program?: string;
  /** The log file to open at once (vlog_set_log_file()). */
  file?: string;
  /**
   * The console level of every module. OVS starts at INFO everywhere; an
   * embedded Vlog is quiet unless asked (OFF), which the daemon options
   * (vlog handleOption) and tests set as they need.
   */
  console?: VlogLevel;
  /** Levels of the other destinations for every module (default INFO, as VLOG_DEFINE_MODULE). */
  syslog?: VlogLevel;
  fileLevel?: VlogLevel;
  /** Modules known from the start (vlog/list lists them; OVS registers every module of the program at start). */
  modules?: readonly string[];
  now?: () => Date;
  /** Where console lines go (default process.stderr). */
  stderr?: { write(s: string): unknown };
  env?: NodeJS.ProcessEnv;
}

/** One logging context: OVS's vlog globals, as an object a program makes once. */
export class Vlog {
  private readonly modules = new Map<string, VlogModule>();
  /** What a module registered later starts with: the levels wildcard settings (a null module) gave every module. */
  private readonly defaults: Record<VlogDestination, VlogLevel>;
  private readonly patterns: Record<VlogDestination, string> = { ...VLOG_DEFAULT_PATTERNS };
  private msgNum = 0;
  private logFileName: string | undefined;
  private logFd = -1;
  private facility = 0;
  private syslogTarget: UdpPeer | undefined;
  private syslogDirect: UdpPeer | undefined;
  private syslogMethod: string | undefined;
  private readonly bootMs = Date.now();
  /** The program, for %A and the default log file. */
  program: string;
  /** set_subprogram_name(): %T shows "(NAME)" when set (the monitor process's "monitor"). */
  subprogram = '';
  /**
   * A daemon run again for --detach/--monitor (where OVS forks) opens its log
   * file again: the process before it already logged "opened log file".
   */
  private quietReopen: boolean;
  /** The last lines at or above the file level, in the file format, whether or not a file is open (for tests and trace output). */
  readonly recent: string[] = [];

  constructor(private readonly opts: VlogOptions = {}) {
    this.program = opts.program ?? 'ovs';
    const env = opts.env ?? process.env;
    this.quietReopen = env.OVS_TS_DAEMON_ROLE !== undefined;
    // A forked process carries on its parent's message numbers: so does one run again in its place.
    if (this.quietReopen) this.msgNum = Number(env.OVS_TS_VLOG_SEQ) || 0;
    this.defaults = { syslog: opts.syslog ?? 'INFO', console: opts.console ?? 'OFF', file: opts.fileLevel ?? 'INFO' };
    for (const m of ['vlog', ...(opts.modules ?? [])]) this.module(m);
    if (opts.file !== undefined) this.setLogFile(opts.file);
  }

  /** The number of the last message logged (%N). */
  get sequence(): number {
    return this.msgNum;
  }

  /** vlog_insert_module() / VLOG_DEFINE_THIS_MODULE: the module named `name` (any case), registered on first use. */
  module(name: string): VlogModule {
    const found = this.moduleFromName(name);
    if (found) return found;
    const m: VlogModule = { name, levels: { ...this.defaults }, honorRateLimits: true };
    this.modules.set(name.toLowerCase(), m);
    return m;
  }

  /** vlog_module_from_name(): strcasecmp lookup. */
  moduleFromName(name: string): VlogModule | undefined {
    return this.modules.get(name.toLowerCase());
  }

  /** vlog_get_level(). */
  getLevel(module: string, destination: VlogDestination): VlogLevel {
    return this.module(module).levels[destination];
  }

  /** vlog_is_enabled(): would a message of `module` at `level` go anywhere (the file only while one is open)? */
  isEnabled(module: string, level: Level): boolean {
    const m = this.module(module);
    return VLOG_DESTINATIONS.some((d) => (d !== 'file' || this.logFd >= 0) && rank(m.levels[d]) >= rank(level));
  }

  /** vlog_set_levels(): a null module or 'any' destination is a wildcard. */
  setLevels(module: string | null, destination: VlogDestination | 'any', level: VlogLevel): void {
    const dests = destination === 'any' ? VLOG_DESTINATIONS : [destination];
    const mods = module === null ? [...this.modules.values()] : [this.module(module)];
    for (const d of dests) {
      for (const m of mods) m.levels[d] = level;
      if (module === null) this.defaults[d] = level;
    }
  }

  /** vlog_set_pattern(). */
  setPattern(destination: VlogDestination | 'any', pattern: string): void {
    for (const d of destination === 'any' ? VLOG_DESTINATIONS : [destination]) this.patterns[d] = pattern;
  }

  /**
   * vlog_set_levels_from_string(): `PATTERN:DEST:PATTERN`, `FACILITY:NAME`, or
   * words (module, destination, level, "ANY", in any order) separated by
   * spaces, commas, colons or tabs. Returns OVS's error text, or undefined.
   */
  setLevelsFromString(spec: string): string | undefined {
    const tok = new Strtok(spec, ' ,:\t');
    let word = tok.next();
    if (word !== undefined && word.toLowerCase() === 'pattern') {
      word = tok.next();
      if (word === undefined) return 'missing destination';
      const destination = word.toLowerCase() === 'any' ? 'any' : vlogDestinationVal(word);
      if (destination === undefined) return `unknown destination "${word}"`;
      this.setPattern(destination, tok.rest());
      return undefined;
    }
    if (word !== undefined && word.toLowerCase() === 'facility') {
      const value = FACILITIES[tok.rest().toLowerCase()];
      if (value === undefined) return 'invalid facility';
      this.facility = value;
      return undefined;
    }
    let module: string | null = null;
    let level: VlogLevel | undefined;
    let destination: VlogDestination | undefined;
    for (; word !== undefined; word = tok.next()) {
      if (word.toLowerCase() === 'any') continue;
      const d = vlogDestinationVal(word);
      const l = d === undefined ? vlogLevelVal(word) : undefined;
      if (d !== undefined) {
        if (destination !== undefined) return 'cannot specify multiple destinations';
        destination = d;
      } else if (l !== undefined) {
        if (level !== undefined) return 'cannot specify multiple levels';
        level = l;
      } else if (this.moduleFromName(word)) {
        if (module !== null) return 'cannot specify multiple modules';
        module = this.moduleFromName(word)!.name;
      } else {
        return `no destination, level, or module "${word}"`;
      }
    }
    this.setLevels(module, destination ?? 'any', level ?? 'DBG');
    return undefined;
  }

  /**
   * vlog_set_verbosity(): `-v`/`--verbose` — no argument sets every module to
   * DBG on every destination; a spec as setLevelsFromString(). Throws OvsError
   * with the text OVS's ovs_fatal() prints after "PROGRAM: ".
   */
  setVerbosity(arg: string | undefined): void {
    if (arg === undefined) return this.setLevels(null, 'any', 'DBG');
    const msg = this.setLevelsFromString(arg);
    if (msg !== undefined) throw new OvsError(`processing "${arg}": ${msg}`, 'EINVAL');
  }

  /**
   * vlog_set_syslog_method(): only the first one counts. "null", "libc",
   * "unix:FILE", "udp:IP[:PORT]" (lib/syslog-direct.c: "<PRI>" and the syslog
   * pattern's line in one datagram). Node has no datagram unix socket, so
   * "libc" (the default) and "unix:" deliver nothing.
   */
  setSyslogMethod(method: string): void {
    if (this.syslogMethod !== undefined) return;
    if (method !== 'null' && method !== 'libc' && !method.startsWith('udp:') && !method.startsWith('unix:')) {
      throw new OvsError(`unsupported syslog method '${method}'`, 'EINVAL');
    }
    this.syslogMethod = method;
    if (method.startsWith('udp:')) this.syslogDirect = openUdp(method.slice(4), 514);
  }

  /** vlog_set_syslog_target(): also send each syslog message, RFC 5424 formatted, to HOST:PORT over UDP. */
  setSyslogTarget(target: string): void {
    const next = openUdp(target, undefined);
    this.syslogTarget?.socket.close();
    this.syslogTarget = next;
  }

  /** vlog_get_log_file(). */
  get logFile(): string | undefined {
    return this.logFileName;
  }

  /**
   * vlog_set_log_file(): opens `name` (default LOGDIR/PROGRAM.log) for
   * appending, unless it is the file already open; logs "closing log file"
   * in the old one and "opened log file NAME" in the new one. Returns
   * undefined, or the errno code it failed with (after logging it as OVS does).
   */
  setLogFile(name?: string | null): string | undefined {
    const newName = name === null ? undefined : (name ?? `${ovsLogdir(this.opts.env)}/${this.program}.log`);
    let newFd = -1;
    if (newName !== undefined) {
      try {
        newFd = openSync(newName, 'a', 0o660);
      } catch (err) {
        const code = errorCode(err);
        this.log('WARN', 'vlog', `failed to open ${newName} for logging: ${ovsStrerror(code)}`);
        return code;
      }
    }
    if (this.sameFile(newFd)) {
      if (newFd >= 0) closeSync(newFd);
      return undefined;
    }
    if (this.logFd >= 0) this.log('INFO', 'vlog', 'closing log file');
    if (this.logFd >= 0) closeSync(this.logFd);
    this.logFileName = newName;
    this.logFd = newFd;
    if (newName !== undefined && !this.quietReopen) this.log('INFO', 'vlog', `opened log file ${newName}`);
    this.quietReopen = false;
    return undefined;
  }

  private sameFile(newFd: number): boolean {
    if (this.logFd < 0 || newFd < 0) return this.logFd < 0 && newFd < 0;
    try {
      const a = fstatSync(this.logFd);
      const b = fstatSync(newFd);
      return a.dev === b.dev && a.ino === b.ino;
    } catch {
      return false;
    }
  }

  /** vlog_close_log_file(): closes the file and forgets its name. */
  closeLogFile(): void {
    this.setLogFile(null);
  }

  /** vlog_reopen_log_file(): reopens the file by its name (after logrotate renamed it). Undefined, or the errno code. */
  reopenLogFile(): string | undefined {
    return this.logFileName === undefined ? undefined : this.setLogFile(this.logFileName);
  }

  /** Logs `text` for `module` at `level` (vlog()). */
  log(level: Level, module: string, text: string): void {
    const m = this.module(module);
    const toConsole = rank(m.levels.console) >= rank(level);
    const toSyslog = rank(m.levels.syslog) >= rank(level);
    const toFile = rank(m.levels.file) >= rank(level);
    if (!toConsole && !toSyslog && !toFile) return;
    this.msgNum++;
    const now = this.opts.now?.() ?? new Date();
    if (toConsole) (this.opts.stderr ?? process.stderr).write(`${this.format(m, level, this.patterns.console, text, now)}\n`);
    if (toSyslog && this.syslogDirect) {
      const pri = SYSLOG_LEVELS[level] | (this.facility || FACILITIES.daemon!);
      for (const line of this.format(m, level, this.patterns.syslog, text, now).split('\n')) {
        if (line) this.syslogDirect.socket.send(`<${pri}>${line}`, this.syslogDirect.port, this.syslogDirect.host);
      }
    }
    if (toSyslog && this.syslogTarget) {
      const line = this.format(m, level, '<%B>1 %D{%Y-%m-%dT%H:%M:%S.###Z} %E %A %P %c - \u{feff}%m', text, now);
      this.syslogTarget.socket.send(line, this.syslogTarget.port, this.syslogTarget.host);
    }
    if (toFile) {
      const line = this.format(m, level, this.patterns.file, text, now);
      this.recent.push(line);
      if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
      if (this.logFd >= 0) {
        try {
          writeSync(this.logFd, `${line}\n`);
        } catch {
          // OVS ignores a failed write to the log (ignore(write(...))).
        }
      }
    }
  }

  /** The function shape the lower layers take. */
  readonly fn = (level: 'DBG' | 'INFO' | 'WARN' | 'ERR', module: string, text: string): void => this.log(level, module, text);

  /**
   * vlog_rate_limit(): logs unless `rl` says the module has logged too much
   * lately (and rate limits are honoured for it); the first message let
   * through after drops says how many were dropped.
   */
  logRateLimited(rl: VlogRateLimit, level: Level, module: string, text: string): void {
    if (!this.shouldDrop(module, level, rl)) this.log(level, module, text);
  }

  /** vlog_should_drop(). */
  shouldDrop(module: string, level: Level, rl: VlogRateLimit): boolean {
    const m = this.module(module);
    if (!m.honorRateLimits) return false;
    if (!this.isEnabled(module, level)) return true;
    const nowMs = (this.opts.now?.() ?? new Date()).getTime();
    const now = Math.floor(nowMs / 1000);
    if (!rl.withdraw(VLOG_MSG_TOKENS, nowMs)) {
      if (!rl.nDropped) rl.firstDropped = now;
      rl.lastDropped = now;
      rl.nDropped++;
      return true;
    }
    if (rl.nDropped) {
      const n = rl.nDropped;
      rl.nDropped = 0;
      this.log(
        level,
        module,
        `Dropped ${n} log messages in last ${now - rl.firstDropped} seconds (most recently, ${now - rl.lastDropped} seconds ago) due to excessive rate`,
      );
    }
    return false;
  }

  /** format_log_message(): `pattern` with its %-escapes filled in. */
  format(module: VlogModule, level: VlogLevel, pattern: string, message: string, now: Date): string {
    let s = '';
    let p = 0;
    while (p < pattern.length) {
      if (pattern[p] !== '%') {
        s += pattern[p++];
        continue;
      }
      p++;
      let left = false;
      let pad = ' ';
      if (pattern[p] === '-') {
        left = true;
        p++;
      }
      if (pattern[p] === '0') {
        pad = '0';
        p++;
      }
      let field = 0;
      while (p < pattern.length && pattern[p]! >= '0' && pattern[p]! <= '9') field = field * 10 + Number(pattern[p++]);
      const c = pattern[p++];
      const braces = (def: string): string => {
        if (pattern[p] !== '{') return def;
        const end = pattern.indexOf('}', p + 1);
        const inside = pattern.slice(p + 1, end < 0 ? pattern.length : end);
        p = end < 0 ? pattern.length + 1 : end + 1;
        return inside;
      };
      let out: string;
      switch (c) {
        case 'A':
          out = this.program;
          break;
        case 'B':
          out = String((this.facility || FACILITIES.local0!) + SYSLOG_LEVELS[level]);
          break;
        case 'c':
          braces('');
          out = module.name;
          break;
        case 'd':
          out = strftimeMsec(braces('%Y-%m-%d %H:%M:%S.###'), now, false);
          break;
        case 'D':
          out = strftimeMsec(braces('%Y-%m-%d %H:%M:%S.###'), now, true);
          break;
        case 'E':
          out = hostname();
          break;
        case 'm':
          out = message.replace(/\n+$/, '');
          break;
        case 'N':
          out = String(this.msgNum);
          break;
        case 'n':
          out = '\n';
          break;
        case 'p':
          out = level;
          break;
        case 'P':
          out = String(process.pid);
          break;
        case 'r':
          out = String(now.getTime() - this.bootMs);
          break;
        case 't':
          out = this.subprogram || 'main';
          break;
        case 'T':
          out = this.subprogram ? `(${this.subprogram})` : '';
          break;
        case undefined:
          out = '';
          break;
        default:
          out = c;
      }
      if (out.length < field) out = left ? out + pad.repeat(field - out.length) : pad.repeat(field - out.length) + out;
      s += out;
    }
    return s;
  }

  /** vlog_get_levels(): the `vlog/list` table. */
  getLevels(): string {
    const lines = [...this.modules.values()].map((m) => {
      const col = (d: VlogDestination) => m.levels[d].padStart(4);
      return `${m.name.padEnd(16)}  ${col('console')}       ${col('syslog')}       ${col('file')}${m.honorRateLimits ? '' : '    (rate limiting disabled)'}\n`;
    });
    lines.sort();
    return `                 console    syslog    file\n                 -------    ------    ------\n${lines.join('')}`;
  }

  /** The vlog/list table without its final newline (what the Vlog of @ovs/vswitchd returned). */
  list(): string {
    return this.getLevels().replace(/\n$/, '');
  }

  /** vlog_get_patterns(): the `vlog/list-pattern` table (the syslog prefix is the syslog method's). */
  getPatterns(): string {
    let s = '         prefix                            format\n         ------                            ------\n';
    for (const d of VLOG_DESTINATIONS) {
      const prefix = d === 'syslog' ? syslogPrefix(this.syslogMethod ?? 'libc') : 'none';
      s += `${d.toUpperCase().padEnd(7)}  ${prefix.padEnd(32)}  ${this.patterns[d]}\n`;
    }
    return s;
  }

  /** set_all_rate_limits() / set_rate_limits(): OVS's error text, or undefined. */
  setRateLimits(modules: readonly string[], enable: boolean): string | undefined {
    if (modules.length === 0) modules = ['ANY'];
    for (const name of modules) {
      if (name.toLowerCase() === 'any') {
        for (const m of this.modules.values()) m.honorRateLimits = enable;
        continue;
      }
      const m = this.moduleFromName(name);
      if (!m) return 'unknown module';
      m.honorRateLimits = enable;
    }
    return undefined;
  }

  /**
   * VLOG_OPTION_HANDLERS: acts on one of VLOG_LONG_OPTIONS and returns true,
   * or returns false for any other option. Throws OvsError with the text the
   * program prints after "PROGRAM: " before exiting 1 (a bad -v spec, a bad
   * syslog option); for an explicit --log-file=FILE that cannot be opened its
   * message is empty (OVS logs the warning and exits 1 saying nothing more).
   */
  handleOption(name: string, value: string | undefined): boolean {
    switch (name) {
      case 'verbose':
        this.setVerbosity(value);
        return true;
      case 'log-file': {
        const err = this.setLogFile(value);
        // OVS exits 1 with nothing more than the warning setLogFile() logged: an OvsError without a message.
        if (err !== undefined && value !== undefined) throw new OvsError('', err);
        return true;
      }
      case 'syslog-method':
        this.setSyslogMethod(value!);
        return true;
      case 'syslog-target':
        this.setSyslogTarget(value!);
        return true;
      default:
        return false;
    }
  }

  /** vlog_init()'s unixctl commands: vlog/set, vlog/list, vlog/list-pattern, vlog/enable-rate-limit, vlog/disable-rate-limit, vlog/reopen, vlog/close. */
  registerUnixctl(server: UnixctlServer): void {
    const MAX = Number.MAX_SAFE_INTEGER;
    server.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, MAX, (args) => {
      if (args.length === 0) this.setLevels(null, 'any', 'DBG');
      for (const a of args) {
        const msg = this.setLevelsFromString(a);
        if (msg !== undefined) throw new Error(msg);
      }
    });
    server.register('vlog/list', '', 0, 0, () => this.getLevels());
    server.register('vlog/list-pattern', '', 0, 0, () => this.getPatterns());
    const rateLimits = (enable: boolean) => (args: string[]) => {
      const msg = this.setRateLimits(args, enable);
      if (msg !== undefined) throw new Error(msg);
    };
    server.register('vlog/enable-rate-limit', '[module]...', 0, MAX, rateLimits(true));
    server.register('vlog/disable-rate-limit', '[module]...', 0, MAX, rateLimits(false));
    server.register('vlog/reopen', '', 0, 0, () => {
      if (this.logFileName === undefined) throw new Error('Logging to file not configured');
      const err = this.reopenLogFile();
      if (err !== undefined) throw new Error(ovsStrerror(err));
    });
    server.register('vlog/close', '', 0, 0, () => {
      // vlog_unixctl_close(): the file is closed but its name kept, so vlog/reopen opens it again.
      if (this.logFd >= 0) {
        closeSync(this.logFd);
        this.logFd = -1;
      }
    });
  }

  /** Closes the log file and the syslog socket (at exit). */
  close(): void {
    if (this.logFd >= 0) closeSync(this.logFd);
    this.logFd = -1;
    this.syslogTarget?.socket.close();
    this.syslogTarget = undefined;
    this.syslogDirect?.socket.close();
    this.syslogDirect = undefined;
  }
}

interface UdpPeer {
  host: string;
  port: number;
  socket: ReturnType<typeof createSocket>;
}

/** inet_open_active(SOCK_DGRAM, "HOST[:PORT]"): a UDP socket to send to the peer. Throws OvsError for a bad name. */
function openUdp(target: string, defaultPort: number | undefined): UdpPeer {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(target);
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] !== undefined ? Number(m[3]) : defaultPort;
  if (!host || port === undefined || port <= 0 || port > 65535) throw new OvsError(`${target}: bad peer name format`, 'EAFNOSUPPORT');
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  socket.unref();
  return { host, port, socket };
}

/** The syslogger's prefix for vlog/list-pattern (lib/syslog-libc.c, syslog-direct.c, syslog-null.c). */
function syslogPrefix(method: string): string {
  if (method === 'libc') return '<%B> %D{%h %e %T} %E %A:';
  if (method === 'null') return '';
  return '<%B>';
}

/** strtok_r() over `s` with `delims`: tokens, and the rest of the string after the last token's delimiter. */
class Strtok {
  private pos = 0;
  constructor(
    private readonly s: string,
    private readonly delims: string,
  ) {}

  next(): string | undefined {
    const { s, delims } = this;
    while (this.pos < s.length && delims.includes(s[this.pos]!)) this.pos++;
    if (this.pos >= s.length) return undefined;
    const start = this.pos;
    while (this.pos < s.length && !delims.includes(s[this.pos]!)) this.pos++;
    const word = s.slice(start, this.pos);
    if (this.pos < s.length) this.pos++; // the delimiter strtok_r overwrote
    return word;
  }

  /** What save_ptr points at. */
  rest(): string {
    return this.s.slice(this.pos);
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * lib/dynamic-string.c's ds_put_strftime_msec(): strftime() (the conversions
 * OVS's patterns use) in UTC or local time, then each run of '#' replaced by
 * that many digits of the milliseconds.
 */
export function strftimeMsec(format: string, when: Date, utc: boolean): string {
  const g = utc
    ? {
        Y: when.getUTCFullYear(),
        m: when.getUTCMonth(),
        d: when.getUTCDate(),
        H: when.getUTCHours(),
        M: when.getUTCMinutes(),
        S: when.getUTCSeconds(),
        w: when.getUTCDay(),
      }
    : { Y: when.getFullYear(), m: when.getMonth(), d: when.getDate(), H: when.getHours(), M: when.getMinutes(), S: when.getSeconds(), w: when.getDay() };
  const two = (n: number) => String(n).padStart(2, '0');
  const out = format.replace(/%([a-zA-Z%])/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return String(g.Y);
      case 'y':
        return two(g.Y % 100);
      case 'm':
        return two(g.m + 1);
      case 'd':
        return two(g.d);
      case 'e':
        return String(g.d).padStart(2, ' ');
      case 'H':
        return two(g.H);
      case 'M':
        return two(g.M);
      case 'S':
        return two(g.S);
      case 'a':
        return DAYS[g.w]!;
      case 'b':
        return MONTHS[g.m]!;
      case 's':
        return String(Math.floor(when.getTime() / 1000));
      case 'Z':
        return utc
          ? 'GMT'
          : (Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
              .formatToParts(when)
              .find((p) => p.type === 'timeZoneName')?.value ?? '');
      case '%':
        return '%';
      default:
        return `%${c}`;
    }
  });
  const ms = String(when.getTime() % 1000).padStart(3, '0');
  return out.replace(/#+/g, (run) => (ms + '0'.repeat(Math.max(0, run.length - 3))).slice(0, run.length));
}

/** vlog_usage(): the "Logging options" section of a program's --help. */
export function vlogUsage(program: string, env: NodeJS.ProcessEnv = process.env): string {
  return `
Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: ${ovsLogdir(env)}/${program}.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP
`;
}
