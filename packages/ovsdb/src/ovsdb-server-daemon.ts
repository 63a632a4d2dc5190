/**
 * A stand-in for lib/daemon-unix.c and lib/vlog.c used by ovsdb-server until
 * @ovs/util's daemon and vlog library lands: the daemon options (--detach by
 * re-spawning the program and waiting for its readiness on fd 3,
 * --pidfile, --no-chdir; --monitor, --overwrite-pidfile and --user
 * accepted) and the logging options (-v specs, --log-file) with OVS's line
 * formats.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { LongOption } from '@ovs/util';
import type { VlogLevel } from './server.js';
import { type UnixctlServer, rundir } from './unixctl.js';

export const DAEMON_LONG_OPTIONS: LongOption[] = [
  { name: 'detach', arg: 'no' },
  { name: 'no-self-confinement', arg: 'no' },
  { name: 'no-chdir', arg: 'no' },
  { name: 'overwrite-pidfile', arg: 'no' },
  { name: 'pidfile', arg: 'optional' },
  { name: 'monitor', arg: 'no' },
  { name: 'user', arg: 'required' },
];

export const VLOG_LONG_OPTIONS: LongOption[] = [
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'syslog-method', arg: 'required' },
  { name: 'syslog-target', arg: 'required' },
];

export interface DaemonOptions {
  detach?: boolean;
  noChdir?: boolean;
  pidfile?: string | null;
  overwritePidfile?: boolean;
  monitor?: boolean;
}

const DETACHED_ENV = 'OVS_TS_DAEMON_CHILD';

export class Daemon {
  private pidfile?: string;
  private readonly isChild: boolean;

  constructor(
    readonly program: string,
    readonly opts: DaemonOptions,
    readonly env: NodeJS.ProcessEnv,
    readonly vlog: Vlog,
  ) {
    this.isChild = env[DETACHED_ENV] === '1';
  }

  /** The option's effect, undefined when handled, false when not a daemon option. */
  static handleOption(o: DaemonOptions, name: string, value: string | undefined): undefined | false {
    switch (name) {
      case 'detach':
        o.detach = true;
        return undefined;
      case 'no-chdir':
        o.noChdir = true;
        return undefined;
      case 'pidfile':
        o.pidfile = value ?? null;
        return undefined;
      case 'overwrite-pidfile':
        o.overwritePidfile = true;
        return undefined;
      case 'monitor':
        o.monitor = true;
        return undefined;
      case 'user':
      case 'no-self-confinement':
        return undefined;
      default:
        return false;
    }
  }

  /**
   * daemonize_start(): in a --detach parent, spawns the daemon and resolves
   * with the status to exit with once it is ready (0) or has died; in the
   * daemon itself, writes the pidfile and resolves undefined.
   */
  async start(argv: string[]): Promise<number | undefined> {
    if (this.opts.detach && !this.isChild) {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...this.env, [DETACHED_ENV]: '1' },
      });
      return await new Promise<number>((resolve) => {
        let done = false;
        const finish = (code: number) => {
          if (done) return;
          done = true;
          child.stderr?.destroy();
          (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void } | null)?.destroy();
          child.unref();
          resolve(code);
        };
        child.stderr?.on('data', (b: Buffer) => process.stderr.write(b));
        (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', () => finish(0));
        child.on('exit', (code, signal) => {
          if (!done) process.stderr.write(`${this.program}: fork child died before signaling startup (${signal ? `killed (${signal})` : `exit status ${code}`})\n`);
          finish(1);
        });
      });
    }
    if (this.opts.pidfile !== undefined) {
      const name = this.opts.pidfile ?? `${this.program}.pid`;
      const file = isAbsolute(name) ? name : join(rundir(this.env), name);
      if (!this.opts.overwritePidfile) {
        const pid = readPid(file);
        if (pid && pid !== process.pid && alive(pid)) {
          const msg = `${file}: already running as pid ${pid}, aborting`;
          this.fail(`${this.program}: ${msg}`);
          process.stderr.write(`${this.program}: ${msg}\n`);
          return 1;
        }
      }
      const tmp = `${file}.tmp`;
      const fd = openSync(tmp, 'w', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      renameSync(tmp, file);
      this.pidfile = file;
    }
    return undefined;
  }

  /** daemonize_complete(): tells a waiting parent the daemon is ready; chdir("/") unless --no-chdir. */
  async complete(): Promise<void> {
    if (!this.isChild) return;
    if (!this.opts.noChdir) process.chdir('/');
    try {
      writeSync(3, 'ready\n');
      closeSync(3);
    } catch {
      // The parent went away: nothing to tell.
    }
    // Standard error led to the parent, which is gone: from here on, the log file only.
    this.vlog.detached();
  }

  /** A fatal error before readiness: already printed; nothing more needed here. */
  fail(_msg: string): void {
    this.cleanup();
  }

  cleanup(): void {
    if (this.pidfile) rmSync(this.pidfile, { force: true });
    this.pidfile = undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const LEVELS: VlogLevel[] = ['emer', 'err', 'warn', 'info', 'dbg'];
type Dest = 'console' | 'syslog' | 'file';
const DESTS: Dest[] = ['console', 'syslog', 'file'];
const rank = (l: VlogLevel | 'off') => (l === 'off' ? -1 : LEVELS.indexOf(l));

/** vlog: per module and destination levels, console and file output in OVS's formats. */
export class Vlog {
  private readonly levels = new Map<string, Record<Dest, VlogLevel | 'off'>>();
  private readonly defaults: Record<Dest, VlogLevel | 'off'> = { console: 'info', syslog: 'info', file: 'info' };
  private logFile?: string;
  private seq = 0;
  private consoleOn = true;

  constructor(
    readonly program: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  private moduleLevels(module: string): Record<Dest, VlogLevel | 'off'> {
    return this.levels.get(module) ?? this.defaults;
  }

  /** undefined when handled, an error text for a bad spec, false when not a logging option. */
  handleOption(name: string, value: string | undefined): undefined | string | false {
    if (name === 'verbose') {
      const err = this.setLevels(value);
      return err ? `processing "${value}": ${err}` : undefined;
    }
    if (name === 'log-file') {
      const logdir = this.env.OVS_LOGDIR || rundir(this.env);
      const file = value ?? `${this.program}.log`;
      this.logFile = isAbsolute(file) ? file : join(logdir, file);
      return undefined;
    }
    if (name === 'syslog-method' || name === 'syslog-target') return undefined;
    return false;
  }

  /** vlog_set_levels_from_string() (and a bare -v: everything at dbg). */
  setLevels(spec: string | undefined): string | null {
    if (spec === undefined || spec === '') {
      for (const d of DESTS) this.defaults[d] = 'dbg';
      for (const m of this.levels.values()) for (const d of DESTS) m[d] = 'dbg';
      return null;
    }
    for (const word of spec.split(/[\s,]+/).filter(Boolean)) {
      let dests: Dest[] = DESTS;
      let level: VlogLevel | 'off' = 'dbg';
      let module: string | undefined;
      const tokens = word.split(':');
      if (tokens[0] === 'PATTERN' || tokens[0] === 'FACILITY') continue;
      for (const t of tokens) {
        const lt = t.toLowerCase();
        if ((DESTS as string[]).includes(lt)) dests = [lt as Dest];
        else if (lt === 'any') continue;
        else if (lt === 'off' || (LEVELS as string[]).includes(lt)) level = lt as VlogLevel | 'off';
        else if (module === undefined) module = t;
        else return `cannot specify multiple modules`;
      }
      const targets = module === undefined ? [this.defaults, ...this.levels.values()] : [this.ensure(module)];
      for (const m of targets) for (const d of dests) m[d] = level;
    }
    return null;
  }

  private ensure(module: string): Record<Dest, VlogLevel | 'off'> {
    let m = this.levels.get(module);
    if (!m) this.levels.set(module, (m = { ...this.defaults }));
    return m;
  }

  detached(): void {
    this.consoleOn = false;
  }

  log(level: VlogLevel, module: string, msg: string): void {
    const l = this.moduleLevels(module);
    const toConsole = this.consoleOn && rank(l.console) >= rank(level);
    const toFile = this.logFile !== undefined && rank(l.file) >= rank(level);
    if (!toConsole && !toFile) return;
    const n = String(++this.seq).padStart(5, '0');
    const now = new Date().toISOString();
    const lvl = level.toUpperCase();
    if (toConsole) process.stderr.write(`${now.slice(0, 19)}Z|${n}|${module}|${lvl}|${msg}\n`);
    if (toFile) {
      try {
        appendFileSync(this.logFile!, `${now}|${n}|${module}|${lvl}|${msg}\n`);
      } catch {
        // An unwritable log file loses the line, as vlog does.
      }
    }
  }

  registerCommands(u: UnixctlServer): void {
    u.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, Number.POSITIVE_INFINITY, (args) => {
      for (const a of args) {
        const err = this.setLevels(a);
        if (err) throw new Error(err);
      }
      return '';
    });
    u.register('vlog/reopen', '', 0, 0, () => '');
    u.register('vlog/close', '', 0, 0, () => '');
  }
}
