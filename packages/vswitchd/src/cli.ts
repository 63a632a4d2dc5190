/**
 * ovs-vswitchd [DATABASE] [--system | --kernel-socket=PATH] [--unixctl=PATH]
 *              [--pidfile[=FILE]] [--log-file[=FILE]] [-v|--verbose]
 *
 * DATABASE: unix:PATH or tcp:HOST:PORT (default unix:$OVS_RUNDIR/db.sock).
 * The datapath: the ovs-kernel daemon by default, the real kernel with
 * --system. Runs in the foreground until SIGTERM/SIGINT or `ovs-appctl exit`.
 */
import { join } from 'node:path';
import { openSocketFactory } from '@ovs/netlink-socket';
import { type LongOption, Vlog, getoptLong, installDir } from '@ovs/util';
import { dbSocket, rundir } from './paths.js';
import { VERSION, Vswitchd } from './vswitchd.js';

const USAGE = `ovs-vswitchd: Open vSwitch daemon (TypeScript)
usage: ovs-vswitchd [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: "unix:$OVS_RUNDIR/db.sock").
Datapath options:
  --system                the real kernel (AF_NETLINK) instead of the ovs-kernel daemon
  --kernel-socket PATH    the ovs-kernel daemon's socket
Daemon options:
  --unixctl=SOCKET        override default control socket name
  --pidfile[=FILE]        create pidfile (default: $OVS_RUNDIR/ovs-vswitchd.pid)
  --log-file[=FILE]       enable logging to FILE (default: $OVS_RUNDIR/ovs-vswitchd.log)
  -v, --verbose           log to the console too
  -h, --help              display this help message
  -V, --version           display version information`;

/** ovs-vswitchd's long options (vswitchd/ovs-vswitchd.c parse_options()) that this port acts on, with its --system and --kernel-socket. */
const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'version', arg: 'no', short: 'V' },
  { name: 'verbose', arg: 'optional', short: 'v' },
  { name: 'log-file', arg: 'optional' },
  { name: 'pidfile', arg: 'optional' },
  { name: 'unixctl', arg: 'required' },
  { name: 'system', arg: 'no' },
  { name: 'kernel-socket', arg: 'required' },
];

export async function main(argv: string[]): Promise<number> {
  const cmdline = getoptLong(argv, LONG_OPTIONS);
  if ('error' in cmdline) {
    console.error(`ovs-vswitchd: ${cmdline.error}`);
    return 1;
  }
  const { values, operands: positionals } = cmdline;
  if (values.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (values.has('version')) {
    console.log(`ovs-vswitchd (Open vSwitch in TypeScript) ${VERSION}`);
    return 0;
  }
  const dir = rundir();
  installDir(dir);
  const socket = openSocketFactory({ system: values.has('system'), path: values.get('kernel-socket') });
  const vlog = new Vlog({
    ...(values.has('log-file') ? { file: values.get('log-file') || join(dir, 'ovs-vswitchd.log') } : {}),
    // Only a bare -v raises the console level; a vlog spec (-vconsole:off, ...) is accepted but not yet applied.
    console: values.has('verbose') && values.get('verbose') === undefined ? ('INFO' as const) : ('WARN' as const),
  });
  const unixctl = values.get('unixctl') ?? join(dir, `ovs-vswitchd.${process.pid}.ctl`);
  let d: Vswitchd;
  try {
    d = await Vswitchd.start({
      db: positionals[0] ?? `unix:${dbSocket()}`,
      socket,
      unixctl,
      pidfile: values.get('pidfile') || join(dir, 'ovs-vswitchd.pid'),
      vlog,
    });
  } catch (err) {
    console.error(`ovs-vswitchd: ${(err as Error).message}`);
    return 1;
  }
  const stop = () => void d.stop(false);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await d.exited;
  return 0;
}
