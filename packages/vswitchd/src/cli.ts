/**
 * ovs-vswitchd [OPTIONS] [DATABASE] (vswitchd/ovs-vswitchd.c): the daemon
 * options of lib/daemon-unix.c (--detach, --pidfile[=FILE], --monitor,
 * --no-chdir, --overwrite-pidfile, --user), lib/vlog.c's (-v/--verbose[=SPEC],
 * --log-file[=FILE], --syslog-*), --unixctl=SOCKET, and this port's datapath
 * choice: the ovs-kernel daemon by default, the real kernel with --system.
 *
 * DATABASE: unix:PATH or tcp:HOST:PORT (default unix:$OVS_RUNDIR/db.sock).
 * With --detach the command returns once the daemon serves its control
 * socket. Runs until SIGTERM/SIGINT or `ovs-appctl exit`.
 */
import { openSocketFactory } from '@ovs/netlink-socket';
import {
  DAEMON_LONG_OPTIONS,
  Daemon,
  type LongOption,
  OvsError,
  UNIXCTL_LONG_OPTIONS,
  VLOG_LONG_OPTIONS,
  Vlog,
  absFileName,
  daemonUsage,
  getoptLong,
  installDir,
  vlogUsage,
} from '@ovs/util';
import { dbSocket, rundir } from './paths.js';
import { VERSION, Vswitchd } from './vswitchd.js';

const PROGRAM = 'ovs-vswitchd';

/** The modules this port logs as (OVS registers all of a program's modules at start, so vlog/set and vlog/list know them before they log). */
const VLOG_MODULES = [
  'bridge',
  'coverage',
  'daemon_unix',
  'dpif',
  'dpif_netlink',
  'memory',
  'netdev',
  'netdev_linux',
  'netdev_vport',
  'ofproto',
  'ofproto_dpif',
  'reconnect',
  'tunnel',
  'unixctl',
  'vlog',
  'vswitchd',
];

/** usage(). */
function usage(env: NodeJS.ProcessEnv): string {
  return `${PROGRAM}: Open vSwitch daemon
usage: ${PROGRAM} [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: "unix:${rundir(env)}/db.sock").
${daemonUsage(PROGRAM, env)}${vlogUsage(PROGRAM, env)}
Datapath options:
  --system                  the real kernel (AF_NETLINK) instead of the ovs-kernel daemon
  --kernel-socket=PATH      the ovs-kernel daemon's socket

Other options:
  --unixctl=SOCKET          override default control socket name
  -h, --help                display this help message
  -V, --version             display version information
`;
}

/** parse_options()'s long options: ovs-vswitchd's own, the daemon's, vlog's, with this port's --system and --kernel-socket. */
const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'version', arg: 'no', short: 'V' },
  ...UNIXCTL_LONG_OPTIONS,
  ...DAEMON_LONG_OPTIONS,
  ...VLOG_LONG_OPTIONS,
  { name: 'system', arg: 'no' },
  { name: 'kernel-socket', arg: 'required' },
];

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const cmdline = getoptLong(argv, LONG_OPTIONS);
  if ('error' in cmdline) {
    process.stderr.write(`${PROGRAM}: ${cmdline.error}\n`);
    return 1;
  }
  // OVS's defaults: every module at INFO on the console, syslog and (with --log-file) the file.
  const vlog = new Vlog({ program: PROGRAM, console: 'INFO', env, modules: VLOG_MODULES });
  const daemon = new Daemon({ program: PROGRAM, vlog, env });
  let unixctlPath: string | undefined;
  let system = false;
  let kernelSocket: string | undefined;
  try {
    for (const { option, value } of cmdline.options) {
      if (daemon.handleOption(option.name, value) || vlog.handleOption(option.name, value)) continue;
      switch (option.name) {
        case 'help':
          process.stdout.write(usage(env));
          return 0;
        case 'version':
          process.stdout.write(`${PROGRAM} (Open vSwitch) ${VERSION}\n`);
          return 0;
        case 'unixctl':
          unixctlPath = value;
          break;
        case 'system':
          system = true;
          break;
        case 'kernel-socket':
          kernelSocket = value;
          break;
      }
    }
    if (cmdline.operands.length > 1) {
      process.stderr.write(`${PROGRAM}: at most one non-option argument accepted; use --help for usage\n`);
      return 1;
    }
    const dir = rundir(env);
    installDir(dir);
    // Without --pidfile this port still writes the default one (ovs-sandbox and the scripts of this
    // project find the daemon by it); OVS writes none then.
    daemon.settings.pidfile ??= daemon.makePidfileName(undefined);
    // daemonize_start(): with --detach the foreground process waits here for complete(), then exits.
    await daemon.start();
    // unixctl_server_create(): RUNDIR/ovs-vswitchd.PID.ctl, a name in RUNDIR, an absolute path, or "none".
    const unixctl = unixctlPath === 'none' ? undefined : unixctlPath !== undefined ? absFileName(dir, unixctlPath) : `${dir}/${PROGRAM}.${process.pid}.ctl`;
    let d: Vswitchd;
    try {
      d = await Vswitchd.start({
        db: cmdline.operands[0] ?? `unix:${dbSocket(env)}`,
        socket: openSocketFactory({ system, path: kernelSocket }),
        ...(unixctl !== undefined ? { unixctl } : {}),
        vlog,
      });
    } catch (err) {
      vlog.log('EMER', 'vswitchd', (err as Error).message);
      process.stderr.write(`${PROGRAM}: ${(err as Error).message}\n`);
      return 1;
    }
    daemon.complete();
    const stop = () => void d.stop(false);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await d.exited;
    return 0;
  } catch (err) {
    // ovs_fatal() / VLOG_FATAL(): "ovs-vswitchd: TEXT", exit status 1.
    if (err instanceof OvsError) {
      process.stderr.write(`${PROGRAM}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
