/**
 * ovs-appctl [-t TARGET] COMMAND [ARG...]: a command to a running daemon's
 * control socket (utilities/ovs-appctl.c). TARGET is a socket path, or a
 * daemon name whose pid is read from $OVS_RUNDIR/NAME.pid (default
 * ovs-vswitchd); the socket is then $OVS_RUNDIR/NAME.PID.ctl.
 */
import { UnixctlError, unixctlTargetSocket, unixctlTransact } from '@ovs/ovsdb';

export async function main(
  argv: string[],
  io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let target = 'ovs-vswitchd';
  const args = [...argv];
  while (args.length && args[0]!.startsWith('-')) {
    const opt = args.shift()!;
    if (opt === '-t' || opt === '--target') target = args.shift() ?? '';
    else if (opt.startsWith('--target=')) target = opt.slice(9);
    else if (opt === '-h' || opt === '--help') {
      io.out(
        'ovs-appctl, for querying and controlling Open vSwitch daemon\nusage: ovs-appctl [TARGET] COMMAND [ARG...]\nTargets:\n  -t, --target=TARGET  pidfile or socket to contact\nCommon commands:\n  list-commands      List commands supported by the target\n  version            Print version of the target\n  vlog/list          List current logging levels\n',
      );
      return 0;
    } else {
      io.err(`ovs-appctl: unrecognized option '${opt}'\n`);
      return 1;
    }
  }
  const [command, ...params] = args;
  if (!command) {
    io.err('ovs-appctl: at least one non-option argument is required (use --help for help)\n');
    return 1;
  }
  let path: string;
  try {
    path = unixctlTargetSocket(target, env);
  } catch (err) {
    io.err(`ovs-appctl: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    io.out(await unixctlTransact(path, command, params));
    return 0;
  } catch (err) {
    if (err instanceof UnixctlError) {
      io.err(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      io.err('ovs-appctl: ovs-vswitchd: server returned an error\n');
      return 2;
    }
    io.err(
      `ovs-appctl: cannot connect to "${path}" (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message})\n`,
    );
    return 1;
  }
}
