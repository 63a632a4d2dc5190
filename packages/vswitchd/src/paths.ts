/**
 * Where the daemons keep their sockets, pid files and logs: OVS_RUNDIR (as
 * OVS names it), else the project's default /tmp/ovs-ts-$UID — the same
 * directory the ovs-kernel daemon and ovs-vsctl use.
 */
import { join } from 'node:path';
import { ovsRundir as rundir } from '@ovs/util';

export { rundir };

/** The database socket ovs-vsctl and ovs-vswitchd use by default (OVS: $OVS_RUNDIR/db.sock). */
export function dbSocket(env: NodeJS.ProcessEnv = process.env): string {
  return join(rundir(env), 'db.sock');
}
