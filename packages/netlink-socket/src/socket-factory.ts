/**
 * Where the layers above get their netlink sockets: a factory that opens one
 * of a protocol (NETLINK_GENERIC, NETLINK_ROUTE), over the transport the
 * program was told to use. OVS has one transport, the kernel's; here the
 * command-line tools choose between the ovs-kernel daemon and the real
 * kernel, and that choice is made once, here.
 */
import type { NetlinkSocket } from '@ovs/genl-codec';
import { connectUnixNetlink, kernelSocketPath } from '@ovs/genl-codec/unix';
import { openNetlinkSocket } from './transport-netlink.js';

/** Opens a netlink socket of a protocol: the transport, chosen by the caller. */
export type SocketFactory = (protocol: number) => Promise<NetlinkSocket>;

export interface SocketFactoryOptions {
  /** The real kernel (`--system`): AF_NETLINK sockets. */
  system?: boolean;
  /** The ovs-kernel daemon's socket as given on the command line (`--socket`, `--kernel-socket`). */
  path?: string;
  /** Where $OVS_KERNEL_SOCKET and $OVS_RUNDIR are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The command-line tools' transport: AF_NETLINK with `system` (the native
 * binding is loaded only when a socket is opened), else the ovs-kernel
 * daemon's unix socket at `path`, $OVS_KERNEL_SOCKET or
 * ${OVS_RUNDIR:-/tmp/ovs-ts-$UID}/ovs-kernel.sock.
 */
export function openSocketFactory(opts: SocketFactoryOptions = {}): SocketFactory {
  if (opts.system) return openNetlinkSocket;
  const path = kernelSocketPath(opts.env ?? process.env, opts.path);
  return (protocol) => connectUnixNetlink(path, { protocol });
}
