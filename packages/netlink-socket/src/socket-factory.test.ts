/**
 * The command-line tools' transport choice: --system is the AF_NETLINK
 * transport itself; otherwise the ovs-kernel daemon's socket, found as the
 * tools document it (the option, then $OVS_KERNEL_SOCKET, then $OVS_RUNDIR).
 */
import { NetlinkProtocol } from '@ovs/genl-codec';
import { UnixNetlinkConnectionError } from '@ovs/genl-codec/unix';
import { describe, expect, it } from 'vitest';
import { openSocketFactory } from './socket-factory.js';
import { openNetlinkSocket } from './transport-netlink.js';

/** Where the factory tries to connect: the daemon is absent, so the error names the path. */
async function pathTried(factory: ReturnType<typeof openSocketFactory>): Promise<string> {
  const err = await factory(NetlinkProtocol.NETLINK_GENERIC).then(
    () => expect.fail('connected to a daemon that should not be there'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnixNetlinkConnectionError);
  return /cannot connect to (\S+):/.exec((err as UnixNetlinkConnectionError).reason)![1]!;
}

describe('openSocketFactory', () => {
  it('is the AF_NETLINK transport with system', () => {
    expect(openSocketFactory({ system: true })).toBe(openNetlinkSocket);
  });

  it('finds the ovs-kernel daemon by the option, then $OVS_KERNEL_SOCKET, then $OVS_RUNDIR', async () => {
    const env = { OVS_KERNEL_SOCKET: '/nonexistent/env.sock', OVS_RUNDIR: '/nonexistent/run' };
    expect(await pathTried(openSocketFactory({ path: '/nonexistent/opt.sock', env }))).toBe('/nonexistent/opt.sock');
    expect(await pathTried(openSocketFactory({ env }))).toBe('/nonexistent/env.sock');
    expect(await pathTried(openSocketFactory({ env: { OVS_RUNDIR: '/nonexistent/run' } }))).toBe('/nonexistent/run/ovs-kernel.sock');
  });
});
