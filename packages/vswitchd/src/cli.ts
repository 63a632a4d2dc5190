/**
 * ovs-vswitchd [DATABASE] [--system | --kernel-socket PATH] [--unixctl PATH]
 *              [--pidfile[=FILE]] [--log-file[=FILE]] [-v|--verbose]
 *
 * DATABASE: unix:PATH or tcp:HOST:PORT (default unix:$OVS_RUNDIR/db.sock).
 * The datapath: the ovs-kernel daemon by default, the real kernel with
 * --system. Runs in the foreground until SIGTERM/SIGINT or `ovs-appctl exit`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSocketFactory } from '@ovs/netlink-socket';
import { installDir } from '@ovs/ovsdb';
import { dbSocket, rundir } from './paths.js';
import { Vlog } from './vlog.js';
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

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        system: { type: 'boolean' },
        'kernel-socket': { type: 'string' },
        unixctl: { type: 'string' },
        pidfile: { type: 'string' },
        'log-file': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    console.error(`ovs-vswitchd: ${(err as Error).message}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(`ovs-vswitchd (Open vSwitch in TypeScript) ${VERSION}`);
    return 0;
  }
  const dir = rundir();
  installDir(dir);
  const socket = openSocketFactory({ system: values.system, path: values['kernel-socket'] });
  const vlog = new Vlog({
    ...(values['log-file'] !== undefined ? { file: values['log-file'] || join(dir, 'ovs-vswitchd.log') } : {}),
    ...(values.verbose ? { console: 'INFO' as const } : { console: 'WARN' as const }),
  });
  const unixctl = values.unixctl ?? join(dir, `ovs-vswitchd.${process.pid}.ctl`);
  let d: Vswitchd;
  try {
    d = await Vswitchd.start({
      db: positionals[0] ?? `unix:${dbSocket()}`,
      socket,
      unixctl,
      pidfile: values.pidfile !== undefined ? values.pidfile || join(dir, 'ovs-vswitchd.pid') : join(dir, 'ovs-vswitchd.pid'),
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
