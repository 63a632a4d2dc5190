/**
 * A daemon client's privilege comes from who it is: SO_PEERCRED (through
 * @ovs/posix), or where its addon cannot load ss(8)'s view of the kernel's
 * unix socket table (UDIAG_SHOW_PEER), and the peer's /proc status, the
 * HELLO only lowering it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errno, NLM_F, NetlinkProtocol, OVS_DP_CMD, encode, ovsDatapathFamily } from '@ovs/genl-codec';
import { connectUnixNetlink } from '@ovs/genl-codec/unix';
import { addonAvailable } from '@ovs/posix';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon } from './daemon.js';
import { parseSs, processCapNetAdmin } from './peercred.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ovs-kernel-peercred-'));
  dirs.push(d);
  return d;
}

/** OVS_DP_CMD_NEW (needs CAP_NET_ADMIN) as bytes, for the captured ovs_datapath id 32. */
function dpNew(name: string, pid: number): Uint8Array {
  return encode({
    kind: 'genl',
    protocol: NetlinkProtocol.NETLINK_GENERIC,
    header: { len: 0, type: 32, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 1, pid },
    family: ovsDatapathFamily,
    cmd: OVS_DP_CMD.NEW,
    version: 2,
    reserved: 0,
    dpIfindex: 0,
    attrs: { name, upcallPid: 0 },
  });
}

describe('parseSs', () => {
  it("reads each socket's inode, its peer's, and the pids holding it (ss -xpnH of iproute2 6.1)", () => {
    const out = [
      'u_str ESTAB 0      0                        /tmp/h1/x.sock 410415 * 410414 users:(("node",pid=9597,fd=21))          ',
      'u_str ESTAB 0      0                                     * 410414 * 410415 users:(("node",pid=9597,fd=20),("node",pid=9601,fd=20))',
      'u_str LISTEN 0      511                      /tmp/h1/x.sock 410413 * 0',
    ].join('\n');
    const { peerOf, pidsOf } = parseSs(out);
    expect(peerOf.get(410415)).toBe(410414);
    expect(peerOf.get(410414)).toBe(410415);
    expect(pidsOf.get(410414)).toEqual([9597, 9601]);
    expect(pidsOf.has(410413)).toBe(false);
  });
});

describe('processCapNetAdmin', () => {
  it("is true for a process of the owner's uid, false for another uid without the capability", () => {
    expect(processCapNetAdmin(process.pid, process.geteuid!())).toBe(true);
    // As seen by a kernel owned by someone else: only CapEff counts (root has CAP_NET_ADMIN).
    expect(processCapNetAdmin(process.pid, 123456)).toBe(process.geteuid!() === 0);
    expect(processCapNetAdmin(2 ** 22 + 12345, 0)).toBeUndefined();
  });
});

// Without the addon, the peer is found with ss: these need one or the other.
const canIdentify = addonAvailable() || spawnSync('ss', ['-V']).status === 0;

describe.skipIf(!canIdentify)('privilege over the daemon (SO_PEERCRED, or ss)', () => {
  it("a client of the daemon's own user is privileged unless its HELLO gives CAP_NET_ADMIN up", async () => {
    const path = join(tempDir(), 'k.sock');
    const daemon = await startDaemon({ socketPath: path, log: () => {} });
    try {
      for (const [capNetAdmin, expected] of [
        [true, 0],
        [false, -Errno.EPERM],
      ] as const) {
        const s = await connectUnixNetlink(path, { protocol: NetlinkProtocol.NETLINK_GENERIC, capNetAdmin });
        await s.send(dpNew(`dp${capNetAdmin}`, s.portId));
        const reply = await s.recv();
        expect(new DataView(reply.buffer, reply.byteOffset).getInt32(16, true)).toBe(expected);
        await s.close();
      }
    } finally {
      await daemon.close();
    }
  });

  // Root can run a client as another user: one of the socket's group (0770 lets it connect)
  // without CAP_NET_ADMIN. Its HELLO claims the capability; the kernel model must not grant it.
  it.skipIf(process.geteuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0)(
    "a client of another user (in the socket's group, without CAP_NET_ADMIN) is refused EPERM whatever its HELLO says, and FAULT too; one outside the group cannot connect",
    async () => {
      const dir = tempDir();
      chmodSync(dir, 0o711);
      const path = join(dir, 'k.sock');
      const daemon = await startDaemon({ socketPath: path, log: () => {} });
      try {
        const unix = fileURLToPath(new URL('../../../genl-codec/dist/transport/unix.cjs', import.meta.url));
        const script = `
          const { connectUnixNetlink, unixFaultRequest } = require(${JSON.stringify(unix)});
          (async () => {
            if (process.argv[2] === 'fault') {
              try { await unixFaultRequest(process.argv[1], { op: 'set', point: 'failslab', attrs: { probability: 100 } }); console.log('set'); }
              catch (e) { console.log(e.code || e.message); }
              return;
            }
            try {
              const s = await connectUnixNetlink(process.argv[1], { protocol: 16, capNetAdmin: true });
              await s.send(Buffer.from(process.argv[2], 'hex'));
              const r = await s.recv();
              console.log(Buffer.from(r).readInt32LE(16));
              await s.close();
            } catch (e) { console.log(e.code || e.message); }
          })();`;
        // Asynchronously: the daemon answers from this process's event loop.
        const asNobody = (what = Buffer.from(dpNew('dpx', 0)).toString('hex')) =>
          new Promise<string>((resolve) => {
            const args = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script, path, what];
            execFile('setpriv', args, { encoding: 'utf8', timeout: 20_000 }, (_err, stdout) => resolve(stdout.trim()));
          });
        // Not in the socket's group: connect() is refused by the file's mode.
        expect(await asNobody()).toBe('EACCES');
        chownSync(path, 0, 65534);
        expect(await asNobody()).toBe(String(-Errno.EPERM));
        expect(daemon.kernel.ovs!.datapaths()).toEqual([]);
        // Nor may it arm fault injection (debugfs is for the privileged).
        expect(await asNobody('fault')).toBe('EPERM');
        expect(daemon.kernel.faults.show()[0]!.probability).toBe(0);
      } finally {
        await daemon.close();
      }
    },
    30_000,
  );
});
