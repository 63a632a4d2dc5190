/**
 * lib/dirs.c: where the daemons and tools keep their files — ovs_rundir() and
 * ovs_logdir(), each overridden by its environment variable as in OVS — and
 * lib/util.c's abs_file_name() that resolves a name given on the command
 * line against one of them.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * ovs_rundir(): sockets and pid files. OVS_RUNDIR (as OVS names it), else the
 * project's default /tmp/ovs-ts-$UID (OVS's build-time default is
 * /var/run/openvswitch, which a user process may not write).
 */
export function ovsRundir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_RUNDIR || join('/tmp', `ovs-ts-${process.getuid?.() ?? 0}`);
}

/** ovs_logdir(): log files. OVS_LOGDIR, else the run directory (the project keeps its logs beside its sockets). */
export function ovsLogdir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OVS_LOGDIR || ovsRundir(env);
}

/** abs_file_name(): `name` as is when it starts with '/', else in `dir`. */
export function absFileName(dir: string, name: string): string {
  return name.startsWith('/') ? name : `${dir}/${name}`;
}

/**
 * utilities/ovs-lib's install_dir, as ovs-ctl makes the run directory before
 * starting a daemon: created only when missing, with mode 755 whatever the
 * umask (install -d -m 755).
 */
export function installDir(dir: string): void {
  if (mkdirSync(dir, { recursive: true }) !== undefined) chmodSync(dir, 0o755);
}
