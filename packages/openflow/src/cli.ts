/**
 * ovs-ofctl's entry point: `show BRIDGE|unix:PATH`, --help, --version.
 * BRIDGE means ${OVS_RUNDIR:-/tmp/ovs-ts-$UID}/BRIDGE.mgmt.
 */
import { ALARM_EXIT, runOfctl } from './ofctl.js';

const defaultErr = (s: string): void => void process.stderr.write(s);

export async function main(argv: string[], io = { out: (s: string) => void process.stdout.write(s), err: defaultErr }): Promise<number> {
  const code = await runOfctl(argv, io, process.env);
  // Like the real program, die of SIGALRM when -t/--timeout expires.
  if (code === ALARM_EXIT && io.err === defaultErr) process.kill(process.pid, 'SIGALRM');
  return code;
}
