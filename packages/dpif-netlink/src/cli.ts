/**
 * ovs-dpctl: talks to the ovs-kernel daemon by default (its socket:
 * --socket PATH, $OVS_KERNEL_SOCKET or ${OVS_RUNDIR:-/tmp/ovs-ts-$UID}/ovs-kernel.sock),
 * to the real kernel with --system.
 */
import { openSocketFactory } from '@ovs/netlink-socket';
import { type LongOption, getoptLong } from '@ovs/util';
import { runDpctl } from './dpctl.js';

const USAGE = `ovs-dpctl: Open vSwitch datapath management utility
usage: ovs-dpctl [OPTIONS] COMMAND [ARG...]
  add-dp DP [IFACE...]     add new datapath DP (with IFACEs)
  del-dp DP                delete local datapath DP
  add-if DP IFACE...       add each IFACE as a port on DP
  set-if DP IFACE...       reconfigure each IFACE within DP
  del-if DP IFACE...       delete each IFACE from DP
  dump-dps                 display names of all datapaths
  show                     show basic info on all datapaths
  show DP...               show basic info on each DP
Each IFACE on add-dp, add-if, and set-if may be followed by
comma-separated options. See ovs-dpctl(8) for syntax, or the
Interface table in ovs-vswitchd.conf.db(5) for an options list.
Options:
  -s, --statistics         print statistics for port or flow
  --system                 the real kernel (AF_NETLINK) instead of the ovs-kernel daemon
  --socket PATH            the ovs-kernel daemon's socket
  --json                   show and dump-dps as JSON
  -h, --help               display this help message`;

/** ovs-dpctl's long options (utilities/ovs-dpctl.c parse_options()), with this port's --system, --socket and --json. */
const LONG_OPTIONS: readonly LongOption[] = [
  { name: 'statistics', arg: 'no', short: 's' },
  { name: 'help', arg: 'no', short: 'h' },
  { name: 'system', arg: 'no' },
  { name: 'socket', arg: 'required' },
  { name: 'json', arg: 'no' },
];

export async function main(argv: string[], io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l) }): Promise<number> {
  const cmdline = getoptLong(argv, LONG_OPTIONS);
  if ('error' in cmdline) {
    io.err(`ovs-dpctl: ${cmdline.error}`);
    return 1;
  }
  const { values, operands: positionals } = cmdline;
  if (values.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const socket = openSocketFactory({ system: values.has('system'), path: values.get('socket') });
  const args = values.has('statistics') && positionals[0] === 'show' ? ['show', '-s', ...positionals.slice(1)] : positionals;
  try {
    return await runDpctl(args, { ...io, socket, json: values.has('json') });
  } catch (err) {
    io.err(`ovs-dpctl: ${(err as Error).message}`);
    return 1;
  }
}
