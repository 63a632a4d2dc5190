/**
 * lib/daemon.c and lib/daemon-unix.c: what makes a program an OVS daemon —
 * the daemon options (DAEMON_LONG_OPTIONS), the pid file locked for the
 * daemon's life, --detach (the foreground process returns once the daemon is
 * ready to serve), --monitor (a process that restarts the daemon when it
 * crashes), --no-chdir, --user; and read_pidfile(), how ovs-appctl finds a
 * daemon.
 *
 * Node cannot fork(): where OVS forks, this runs the same program again (the
 * same node, flags and argv) with the role the forked process would have in
 * the environment, and a pipe on fd 3 for the child to say it is ready (the
 * pipe of fork_and_wait_for_startup()).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { LongOption } from './command-line.js';
import { absFileName, ovsRundir } from './dirs.js';
import { posixLocks } from './posix.js';
import { processStatusMsg } from './process.js';
import { OvsError, errorCode, ovsStrerror } from './strerror.js';
import type { Vlog } from './vlog.js';

/** DAEMON_LONG_OPTIONS (lib/daemon.h, POSIX). */
export const DAEMON_LONG_OPTIONS: readonly LongOption[] = [
  { name: 'detach', arg: 'no' },
  { name: 'no-self-confinement', arg: 'no' },
  { name: 'no-chdir', arg: 'no' },
  { name: 'pidfile', arg: 'optional' },
  { name: 'overwrite-pidfile', arg: 'no' },
  { name: 'monitor', arg: 'no' },
  { name: 'user', arg: 'required' },
];

/** The environment variable that tells a re-run program which forked process it is, and that fd 3 is its readiness pipe. */
export const ROLE_ENV = 'OVS_TS_DAEMON_ROLE';
type Role = 'detached' | 'monitored';
/** The message number the process before it had reached, for the re-run one's Vlog to carry on from. */
const SEQ_ENV = 'OVS_TS_VLOG_SEQ';

/** The signals after which the monitor restarts the daemon (should_restart(); documented in daemon.man). */
const ERROR_SIGNALS: ReadonlySet<string> = new Set(['SIGABRT', 'SIGALRM', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGPIPE', 'SIGSEGV', 'SIGXCPU', 'SIGXFSZ']);

/** The module daemon-unix.c logs as. */
const THIS_MODULE = 'daemon_unix';

/** Device and inode of this process's own pid file: read_pidfile() must not open it (closing any fd of a locked file drops the lock). */
let ownPidfile: { dev: number; ino: number } | undefined;

/** Files removed when the process exits (fatal_signal_add_file_to_unlink()). */
const filesToUnlink = new Set<string>();
let unlinkHooked = false;

function unlinkFiles(): void {
  for (const f of filesToUnlink) {
    try {
      unlinkSync(f);
    } catch {
      // Already gone.
    }
  }
  filesToUnlink.clear();
}

/**
 * fatal_signal_add_file_to_unlink(): `file` is removed when the process
 * exits, and on SIGTERM, SIGINT, SIGHUP and SIGALRM when nothing else
 * handles them (then the signal is raised again, so the process dies of it,
 * as fatal-signal.c does).
 */
export function addFileToUnlink(file: string): void {
  filesToUnlink.add(file);
  if (unlinkHooked) return;
  unlinkHooked = true;
  process.on('exit', unlinkFiles);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGALRM'] as const) {
    const onSignal = () => {
      if (process.listenerCount(sig) > 1) return; // the program handles it, and will exit through 'exit'
      unlinkFiles();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** fatal_signal_remove_file_to_unlink(). */
export function removeFileToUnlink(file: string): void {
  filesToUnlink.delete(file);
}

/** Where read_pidfile()'s warnings go (a daemon's Vlog, once it has one). */
let pidfileLog: Vlog | undefined;

function logPidfile(level: 'DBG' | 'WARN', text: string): void {
  pidfileLog?.log(level, THIS_MODULE, text);
}

const fail = (code: string, message = ovsStrerror(code)): never => {
  throw new OvsError(message, code);
};

/**
 * read_pidfile__(): the pid of the process that holds `path` locked and whose
 * pid it contains. With `deleteIfStale`, a file nobody holds is removed (after
 * taking its lock, so as to remove only the stale one) and 0 returned; an
 * absent file is 0 too. Throws OvsError (code ESRCH for a stale file).
 */
function readPidfile__(path: string, deleteIfStale: boolean): number {
  if (ownPidfile) {
    try {
      const s = statSync(path);
      if (s.dev === ownPidfile.dev && s.ino === ownPidfile.ino) return process.pid;
    } catch {
      // Not ours, or gone: look at it.
    }
  }
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' && deleteIfStale) return 0;
    logPidfile('WARN', `${path}: open: ${ovsStrerror(code)}`);
    return fail(code);
  }
  try {
    const locks = posixLocks();
    let lck: { type: 'read' | 'write' | 'unlock'; pid: number } | undefined;
    if (locks) {
      try {
        lck = locks.getLock(fd, 'write');
      } catch (err) {
        const code = errorCode(err);
        logPidfile('WARN', `${path}: fcntl: ${ovsStrerror(code)}`);
        return fail(code);
      }
    }
    const line = readLine(fd);
    if (!lck) {
      // No fcntl locks in this build: the pid in the file, if that process lives.
      const pid = Number.parseInt(line, 10);
      if (pid > 0 && processExists(pid)) return pid;
      if (!deleteIfStale) {
        logPidfile('DBG', `${path}: pid file is stale`);
        return fail('ESRCH');
      }
      unlinkSync(path);
      logPidfile('DBG', `${path}: deleted stale pidfile`);
      return 0;
    }
    if (lck.type === 'unlock') {
      if (!deleteIfStale) {
        logPidfile('DBG', `${path}: pid file is stale`);
        return fail('ESRCH');
      }
      try {
        locks!.setLock(fd, 'write');
      } catch (err) {
        logPidfile('WARN', `${path}: lost race to lock pidfile`);
        return fail(errorCode(err));
      }
      let same = false;
      try {
        const s = statSync(path);
        const s2 = fstatSync(fd);
        same = s.ino === s2.ino && s.dev === s2.dev;
      } catch {
        same = false;
      }
      if (!same) {
        logPidfile('WARN', `${path}: lost race to delete pidfile`);
        return fail('EALREADY');
      }
      try {
        unlinkSync(path);
      } catch (err) {
        const code = errorCode(err);
        logPidfile('WARN', `${path}: failed to delete stale pidfile (${ovsStrerror(code)})`);
        return fail(code);
      }
      logPidfile('DBG', `${path}: deleted stale pidfile`);
      return 0;
    }
    if (line === '') {
      logPidfile('WARN', `${path}: read: unexpected end of file`);
      return fail('ESRCH');
    }
    if (lck.pid !== strtoul(line)) {
      logPidfile('WARN', `${path}: stale pidfile for pid ${line} being deleted by pid ${lck.pid}`);
      return fail('ESRCH');
    }
    return lck.pid;
  } finally {
    closeSync(fd);
  }
}

/** fgets() of the first line (with its newline), at most 127 bytes. */
function readLine(fd: number): string {
  const buf = Buffer.alloc(127);
  const n = readSync(fd, buf, 0, buf.length, 0);
  const text = buf.subarray(0, n).toString('latin1');
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl + 1);
}

/** strtoul(line, NULL, 10): leading digits after spaces, 0 if none. */
function strtoul(line: string): number {
  const m = /^\s*\+?(\d+)/.exec(line);
  return m ? Number(m[1]) : 0;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/**
 * read_pidfile(): the pid of the daemon running with pid file `path` — the
 * process holding its fcntl write lock, which must be the pid it contains.
 * Throws OvsError: ENOENT and the like from open(), ESRCH when the file is
 * stale (nobody holds it, or it holds another pid), as OVS returns -errno.
 */
export function readPidfile(path: string): number {
  return readPidfile__(path, false);
}

/** The --detach / --monitor / --pidfile settings of a Daemon, as the options left them. */
export interface DaemonSettings {
  detach: boolean;
  monitor: boolean;
  /** false after --no-chdir. */
  chdir: boolean;
  pidfile: string | undefined;
  overwritePidfile: boolean;
  selfConfine: boolean;
  /** --user's USER[:GROUP], validated. */
  user: { uid: number; gid: number; name: string } | undefined;
}

export interface DaemonOptions {
  /** program_name: the default pid file is RUNDIR/PROGRAM.pid. */
  program: string;
  /** Where the daemon's own messages go (VLOG_FATAL's EMER line, the monitor's lines, read_pidfile()'s warnings). */
  vlog?: Vlog;
  env?: NodeJS.ProcessEnv;
  /**
   * How to run this program again for --detach and --monitor: the command and
   * its arguments, exactly as this process was started (default: this node,
   * its flags, process.argv[1..]).
   */
  respawn?: readonly string[];
}

/**
 * One daemon process's lib/daemon*.c state. Make it, feed it the options it
 * knows (handleOption(), DAEMON_OPTION_HANDLERS), then `await start()` before
 * opening anything the daemon serves, and `complete()` once it serves.
 */
export class Daemon {
  readonly settings: DaemonSettings = {
    detach: false,
    monitor: false,
    chdir: true,
    pidfile: undefined,
    overwritePidfile: false,
    selfConfine: true,
    user: undefined,
  };
  private readonly role: Role | undefined;
  /** The readiness pipe to the process waiting for this one (fd 3 when re-run with a role). */
  private daemonizeFd = -1;
  private detached = false;
  private pidfileFd = -1;

  constructor(readonly opts: DaemonOptions) {
    const env = opts.env ?? process.env;
    const role = env[ROLE_ENV];
    this.role = role === 'detached' || role === 'monitored' ? role : undefined;
    if (this.role) this.daemonizeFd = 3;
    if (opts.vlog) pidfileLog = opts.vlog;
  }

  /** make_pidfile_name(): RUNDIR/PROGRAM.pid, or `name` in RUNDIR unless absolute. */
  makePidfileName(name: string | undefined): string {
    const rundir = ovsRundir(this.opts.env);
    return name === undefined ? `${rundir}/${this.opts.program}.pid` : absFileName(rundir, name);
  }

  /**
   * DAEMON_OPTION_HANDLERS: acts on one of DAEMON_LONG_OPTIONS and returns
   * true, or false for any other option. Throws OvsError (--user's checks).
   */
  handleOption(name: string, value: string | undefined): boolean {
    const s = this.settings;
    switch (name) {
      case 'detach':
        s.detach = true;
        return true;
      case 'no-self-confinement':
        s.selfConfine = false;
        return true;
      case 'no-chdir':
        s.chdir = false;
        return true;
      case 'pidfile':
        s.pidfile = this.makePidfileName(value);
        return true;
      case 'overwrite-pidfile':
        s.overwritePidfile = true;
        return true;
      case 'monitor':
        s.monitor = true;
        return true;
      case 'user':
        s.user = this.setNewUser(value!);
        return true;
      default:
        return false;
    }
  }

  /**
   * daemon_set_new_user(): USER[:GROUP], only for root; the user (or, with an
   * empty USER, the current one) and group must exist. The switch itself is
   * done by start() with setgid()/initgroups()/setuid() (daemon-unix.c's
   * portable path: no capabilities are kept, unlike its libcap-ng one).
   */
  private setNewUser(spec: string): { uid: number; gid: number; name: string } {
    const pidfile = this.settings.pidfile ?? '(null)';
    // Run again for --detach/--monitor, this process already is that user (the first one switched before starting it).
    if (!this.role && (process.geteuid?.() !== 0 || process.getuid?.() !== 0)) this.fatal(`${pidfile}: only root can use --user option`);
    const trimmed = spec.replace(/^[ \t\r\n]+/, '');
    const colon = trimmed.indexOf(':');
    const userName = colon < 0 ? trimmed : trimmed.slice(0, colon);
    const passwd = readDb('/etc/passwd');
    const pw = userName ? passwd.find((f) => f[0] === userName) : passwd.find((f) => Number(f[2]) === process.getuid!());
    if (!pw) {
      if (userName) this.fatal(`${pidfile}: user ${userName} not found, aborting.`);
      this.fatal(`${pidfile}: Failed to retrieve current user's name (${ovsStrerror('ENOENT')}), aborting.`);
    }
    const user = { name: pw![0]!, uid: Number(pw![2]), gid: Number(pw![3]) };
    if (colon >= 0) {
      const groupName = trimmed.slice(colon + 1).replace(/^[ \t\r\n]+/, '');
      if (groupName) {
        const gr = readDb('/etc/group').find((f) => f[0] === groupName);
        if (!gr) this.fatal(`${pidfile}: group ${groupName} not found, aborting.`);
        const gid = Number(gr![2]);
        if (gid !== user.gid && !gr![3]?.split(',').includes(user.name)) {
          this.fatal(`${pidfile}: invalid user parameter. ${user.name} is not a member of group ${groupName}, aborting.`);
        }
        user.gid = gid;
      }
    }
    return user;
  }

  /**
   * VLOG_FATAL(): logs `message` at EMER for daemon_unix (not on the console)
   * and throws it as OvsError; the program prints "PROGRAM: MESSAGE" and
   * exits 1, as ovs_fatal() does.
   */
  private fatal(message: string, code = 'EINVAL'): never {
    const vlog = this.opts.vlog;
    if (vlog) {
      const m = vlog.module(THIS_MODULE);
      const consoleLevel = m.levels.console;
      m.levels.console = 'OFF';
      vlog.log('EMER', THIS_MODULE, message);
      m.levels.console = consoleLevel;
    }
    throw new OvsError(message, code);
  }

  /**
   * daemonize_start(): with --detach, in the foreground process, runs the
   * daemon in the background in a new session and exits — 0 once it is ready
   * (complete()), its exit status if it fails first — so the returned promise
   * never settles there; with --monitor, this process becomes the monitor
   * (which never returns either) and the daemon is a child it restarts after
   * a crash. In the daemon: switches user (--user), creates the pid file (a
   * fatal OvsError if another live process holds it), and returns.
   */
  async start(): Promise<void> {
    const s = this.settings;
    if (this.role) {
      // Not for whatever this daemon runs in its turn.
      delete (this.opts.env ?? process.env)[ROLE_ENV];
      delete (this.opts.env ?? process.env)[SEQ_ENV];
      // Whatever the foreground process and the monitor relay must not crash us once they are gone.
      process.stdout.on('error', () => {});
      process.stderr.on('error', () => {});
    }
    // A forked OVS daemon (and its monitor) keeps its program's name: the one run again here is "node" until told.
    if (this.role || s.monitor) process.title = this.opts.program;
    if (s.user && !this.role) this.becomeNewUser(s.user);
    if (s.detach && this.role === undefined) {
      const outcome = await this.forkAndWaitForStartup('detached', 'pipe');
      if (outcome.ready) return exitWhenFlushed(0);
      if (outcome.code !== null && outcome.code !== 0) return exitWhenFlushed(outcome.code);
      this.opts.vlog?.log('ERR', THIS_MODULE, `fork child died before signaling startup (${processStatusMsg(outcome.code, outcome.signal)})`);
      process.stderr.write(`${this.opts.program}: could not detach from foreground session\n`);
      return exitWhenFlushed(1);
    }
    if (s.monitor && this.role !== 'monitored') {
      await this.monitorDaemon();
      return new Promise<void>(() => {});
    }
    if (s.pidfile) this.makePidfile(s.pidfile);
  }

  /** daemon_become_new_user_unix(): setgid, initgroups, setuid, each checked. */
  private becomeNewUser(user: { uid: number; gid: number; name: string }): void {
    const pidfile = this.settings.pidfile ?? '(null)';
    try {
      process.setgid!(user.gid);
    } catch {
      this.fatal(`${pidfile}: fail to switch group to gid as ${user.gid}, aborting`);
    }
    try {
      (process as unknown as { initgroups(user: string, group: number): void }).initgroups(user.name, user.gid);
    } catch {
      this.fatal(`${pidfile}: fail to add supplementary group gid ${user.gid}, aborting`);
    }
    try {
      process.setuid!(user.uid);
    } catch {
      this.fatal(`${pidfile}: fail to switch user to ${user.name}, aborting`);
    }
    this.settings.user = undefined;
  }

  /**
   * fork_and_wait_for_startup(): runs the program again with `role` and a pipe
   * on its fd 3; resolves once it writes there (ready) or exits before.
   * `stdio` 'pipe': its output is relayed to ours until then (the foreground
   * process); 'inherit' / 'ignore': it writes where we do, or nowhere.
   */
  private forkAndWaitForStartup(
    role: Role,
    stdio: 'pipe' | 'inherit' | 'ignore',
  ): Promise<{ ready: true; child: ChildProcess } | { ready: false; pid: number | undefined; code: number | null; signal: NodeJS.Signals | null }> {
    const [command, ...args] = this.opts.respawn ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
    const child = spawn(command!, args, {
      detached: role === 'detached',
      stdio: ['ignore', stdio, stdio, 'pipe'],
      env: { ...(this.opts.env ?? process.env), [ROLE_ENV]: role, [SEQ_ENV]: String(this.opts.vlog?.sequence ?? 0) },
    });
    if (stdio === 'pipe') {
      child.stdout!.on('data', (b: Buffer) => process.stdout.write(b));
      child.stderr!.on('data', (b: Buffer) => process.stderr.write(b));
    }
    const ready = child.stdio[3] as Readable;
    return new Promise((resolve) => {
      let settled = false;
      ready.once('data', () => {
        if (settled) return;
        settled = true;
        // Output the child wrote before saying it is ready is already in its pipes: let it through first.
        setImmediate(() => {
          ready.destroy();
          if (stdio === 'pipe') {
            child.stdout!.destroy();
            child.stderr!.destroy();
          }
          resolve({ ready: true, child });
        });
      });
      child.once('error', (err) => {
        if (settled) return;
        settled = true;
        process.stderr.write(`${this.opts.program}: ${err.message}\n`);
        resolve({ ready: false, pid: child.pid, code: 1, signal: null });
      });
      child.once('exit', (code, signal) => {
        if (settled) return;
        // The rest of its output first ('close' comes once its pipes are drained).
        const done = () => {
          if (settled) return;
          settled = true;
          resolve({ ready: false, pid: child.pid, code, signal });
        };
        child.once('close', done);
        setTimeout(done, 1000).unref();
      });
    });
  }

  /** fork_notify_startup(): one byte on the readiness pipe, if there is one. */
  private notifyStartup(): void {
    if (this.daemonizeFd < 0) return;
    try {
      writeSync(this.daemonizeFd, Buffer.of(0));
      closeSync(this.daemonizeFd);
    } catch (err) {
      this.fatal(`pipe write failed (${ovsStrerror(errorCode(err))})`, errorCode(err));
    }
    this.daemonizeFd = -1;
  }

  /**
   * monitor_daemon(): this process watches the daemon; after a crash (an
   * error signal) it starts it again, at most once every 10 seconds; after
   * any other end it exits 0. Logs as OVS's monitor does, as
   * "daemon_unix(monitor)".
   */
  private async monitorDaemon(): Promise<never> {
    const vlog = this.opts.vlog;
    const first = await this.forkAndWaitForStartup('monitored', 'inherit');
    if (!first.ready) {
      if (first.code !== null && first.code !== 0) return exitWhenFlushed(first.code);
      this.opts.vlog?.log('ERR', THIS_MODULE, `fork child died before signaling startup (${processStatusMsg(first.code, first.signal)})`);
      process.stderr.write(`${this.opts.program}: could not initiate process monitoring\n`);
      return exitWhenFlushed(1);
    }
    // Running in the monitor: tell whoever waits for us, and let go of the terminal as daemonize_post_detach() would.
    this.notifyStartup();
    if (this.settings.detach) closeStandardFds(vlog);
    if (vlog) vlog.subprogram = 'monitor';
    let child: ChildProcess = first.child;
    let crashes = 0;
    let lastRestart = Number.NEGATIVE_INFINITY;
    for (;;) {
      const logFile = vlog?.logFile;
      vlog?.closeLogFile();
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
        else child.once('exit', (c, s) => resolve({ code: c, signal: s }));
      });
      if (logFile !== undefined) vlog?.setLogFile(logFile);
      const status = processStatusMsg(code, signal);
      if (signal === null || !ERROR_SIGNALS.has(signal)) {
        vlog?.log('INFO', THIS_MODULE, `pid ${child.pid} died, ${status}, exiting`);
        return exitWhenFlushed(0);
      }
      const statusMsg = `${++crashes} crashes: pid ${child.pid} died, ${status}`;
      if (Date.now() < lastRestart + 10_000) {
        vlog?.log('WARN', THIS_MODULE, `${statusMsg}, waiting until 10 seconds since last restart`);
        await new Promise((r) => setTimeout(r, lastRestart + 10_000 - Date.now()));
      }
      lastRestart = Date.now();
      vlog?.log('ERR', THIS_MODULE, `${statusMsg}, restarting`);
      for (;;) {
        const next = await this.forkAndWaitForStartup('monitored', this.settings.detach ? 'ignore' : 'inherit');
        if (next.ready) {
          child = next.child;
          break;
        }
        // fork_and_wait_for_startup(): a restarted daemon that exits with an error before it is ready takes the monitor with it;
        // one killed before it is ready is another crash (!child_ready).
        if (next.code !== null && next.code !== 0) return exitWhenFlushed(next.code);
        const again = processStatusMsg(next.code, next.signal);
        if (next.signal === null || !ERROR_SIGNALS.has(next.signal)) {
          vlog?.log('INFO', THIS_MODULE, `pid ${next.pid} died, ${again}, exiting`);
          return exitWhenFlushed(0);
        }
        vlog?.log('WARN', THIS_MODULE, `${++crashes} crashes: pid ${next.pid} died, ${again}, waiting until 10 seconds since last restart`);
        await new Promise((r) => setTimeout(r, 10_000));
        vlog?.log('ERR', THIS_MODULE, `${crashes} crashes: pid ${next.pid} died, ${again}, restarting`);
      }
    }
  }

  /**
   * make_pidfile(): FILE.tmp (FILE.tmpPID with --overwrite-pidfile) opened,
   * write-locked with fcntl(F_SETLK), checked against a live holder of FILE
   * (check_already_running()), filled with our pid, renamed to FILE; its fd
   * stays open so the lock lasts as long as the process; FILE is removed at
   * exit.
   */
  private makePidfile(pidfile: string): void {
    const pid = process.pid;
    const overwrite = this.settings.overwritePidfile;
    const tmpfile = overwrite ? `${pidfile}.tmp${pid}` : `${pidfile}.tmp`;
    if (overwrite) addFileToUnlink(tmpfile);
    let fd: number;
    try {
      fd = openSync(tmpfile, 'a+');
    } catch (err) {
      return this.fatal(`${tmpfile}: create failed (${ovsStrerror(errorCode(err))})`, errorCode(err));
    }
    const locks = posixLocks();
    if (locks) {
      try {
        locks.setLock(fd, 'write');
      } catch (err) {
        closeSync(fd);
        return this.fatal(`${tmpfile}: fcntl(F_SETLK) failed (${ovsStrerror(errorCode(err))})`, errorCode(err));
      }
    }
    if (!overwrite) {
      addFileToUnlink(tmpfile);
      this.checkAlreadyRunning(pidfile);
    }
    const s = fstatSync(fd);
    try {
      ftruncateSync(fd, 0);
    } catch (err) {
      return this.fatal(`${tmpfile}: truncate failed (${ovsStrerror(errorCode(err))})`, errorCode(err));
    }
    try {
      writeSync(fd, `${pid}\n`);
    } catch (err) {
      return this.fatal(`${tmpfile}: write failed (${ovsStrerror(errorCode(err))})`, errorCode(err));
    }
    removeFileToUnlink(tmpfile);
    try {
      renameSync(tmpfile, pidfile);
    } catch (err) {
      return this.fatal(`failed to rename "${tmpfile}" to "${pidfile}" (${ovsStrerror(errorCode(err))})`, errorCode(err));
    }
    addFileToUnlink(pidfile);
    this.pidfileFd = fd;
    ownPidfile = { dev: s.dev, ino: s.ino };
  }

  /** check_already_running(): another live process holds the pid file -> fatal; a stale one is removed. */
  private checkAlreadyRunning(pidfile: string): void {
    let pid: number;
    try {
      pid = readPidfile__(pidfile, true);
    } catch (err) {
      return this.fatal(`${pidfile}: pidfile check failed (${ovsStrerror(errorCode(err))}), aborting`, errorCode(err));
    }
    if (pid > 0) this.fatal(`${pidfile}: already running as pid ${pid}, aborting`, 'EEXIST');
  }

  /** Whether this process holds its pid file (for tests and status). */
  get holdsPidfile(): boolean {
    return this.pidfileFd >= 0;
  }

  /**
   * daemonize_complete(): tells the process waiting (the foreground one, or
   * the monitor) that the daemon is ready, then, with --detach, chdir("/")
   * unless --no-chdir and close_standard_fds(). Later calls do nothing.
   */
  complete(): void {
    if (this.detached) return;
    this.detached = true;
    this.notifyStartup();
    if (this.settings.detach) {
      if (this.settings.chdir) process.chdir('/');
      closeStandardFds(this.opts.vlog);
    }
  }
}

/**
 * close_standard_fds(): the daemon lets go of the terminal (Node cannot
 * dup2() /dev/null over fds 0-2: what would be written to them is
 * discarded instead) and stops logging to the console.
 */
function closeStandardFds(vlog: Vlog | undefined): void {
  const discard = ((_chunk: unknown, encoding?: unknown, cb?: unknown) => {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = discard;
  process.stderr.write = discard;
  vlog?.setLevels(null, 'console', 'OFF');
}

/** exit(status), once what this process wrote to stdout/stderr has gone out. */
function exitWhenFlushed(status: number): Promise<never> {
  // Whoever reads our output may be gone: that must not change the status.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(status);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
  return new Promise<never>(() => {});
}

/** /etc/passwd or /etc/group as rows of fields. */
function readDb(path: string): string[][] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** daemon_usage(): the "Daemon options" section of a daemon's --help. */
export function daemonUsage(program: string, env: NodeJS.ProcessEnv = process.env): string {
  return `
Daemon options:
  --detach                run in background as daemon
  --monitor               creates a process to monitor this daemon
  --user=username[:group] changes the effective daemon user:group
  --no-chdir              do not chdir to '/'
  --pidfile[=FILE]        create pidfile (default: ${ovsRundir(env)}/${program}.pid)
  --overwrite-pidfile     with --pidfile, start even if already running
`;
}
