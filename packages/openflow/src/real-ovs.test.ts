/**
 * Differential tests against Debian's real ovs-ofctl 3.1 (openvswitch-common,
 * installed by @ovs/ovsdb's ensureRealOvs() when missing; without it the
 * test says why and stops):
 *
 * - real `ovs-ofctl show` and ours against our management server, for
 *   several port sets and every OpenFlow version: same stdout, stderr and
 *   exit status, and the same request bytes on the wire (captured by the
 *   server: hello xid 1, features request xid 2, a second connection with
 *   hello xid 3 and get-config xid 4, or the port-description request in
 *   between when the ports do not fit);
 * - failures (no socket, not a socket, unknown method, bad options, a switch
 *   that hangs up, speaks no common version, does not say hello, or sends a
 *   too-short header): same texts;
 * - the printer: `ovs-ofctl ofp-parse` on a corpus of messages and on random
 *   ones prints exactly what formatMessage() prints.
 *
 * Real ovs-ofctl runs as a child (async execFile) while the server answers
 * in this process.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRealOvs } from '@ovs/ovsdb/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHelloFor, encodeMessage, type OfpMessage, type OfpPhyPort } from './codec.js';
import { NETDEV_F, OFPP_CONTROLLER, OFPP_LOCAL, OFPPC, OFPPS } from './constants.js';
import { buildFeaturesReply, buildPortDescReplies, encodeErrorMessage } from './ofproto.js';
import { runOfctl } from './ofctl.js';
import { encodePhyPort, type OfpPortDesc } from './port.js';
import { formatMessage } from './print.js';
import { OpenflowMgmtServer } from './server.js';
import { showBlocks } from './testing/transcripts.js';

const realOvs = ensureRealOvs();
const haveOfctl = realOvs.ok && spawnSync('sh', ['-c', 'command -v ovs-ofctl']).status === 0;
const reason = realOvs.ok ? 'real ovs-ofctl missing (openvswitch-common installed without it?)' : realOvs.reason;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function execReal(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile('ovs-ofctl', args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      // Killed by SIGALRM (-t/--timeout): 128 + 14, as a shell (and runOfctl) report it.
      const e = err as { code?: number | null; signal?: string | null } | null;
      const code = !e ? 0 : e.signal === 'SIGALRM' ? 142 : typeof e.code === 'number' ? e.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function runOurs(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runOfctl(args, { out: (s) => (stdout += s), err: (s) => (stderr += s) }, env);
  return { code, stdout, stderr };
}

/** VLOG lines carry the time: keep the rest. */
const maskTime = (s: string): string => s.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, 'TIME|');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Either the differential tests or, where real OVS cannot be had, one test saying why (no skipped tests).
if (haveOfctl)
  describe('real ovs-ofctl 3.1 against our switch, and ours beside it', { timeout: 120_000 }, () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'ofctl-real-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    let serial = 0;
    /** Serves `ports` on a fresh socket; runs `fn` with the socket's path, recording what each connection received. */
    async function withServer<T>(
      ports: OfpPortDesc[],
      fn: (path: string, bridge: string, received: () => string[][]) => Promise<T>,
      allowedVersions?: number,
    ): Promise<T> {
      const bridge = `br${serial++}`;
      const conns = new Map<string, string[]>();
      const server = await OpenflowMgmtServer.listen(
        join(dir, `${bridge}.mgmt`),
        { datapathId: () => 0x00007ecc79afcd44n, ports: () => ports },
        {
          ...(allowedVersions ? { allowedVersions } : {}),
          trace: (conn, dir_, bytes) => {
            if (dir_ !== 'recv') return;
            if (!conns.has(conn)) conns.set(conn, []);
            conns.get(conn)!.push(hex(bytes));
          },
        },
      );
      try {
        return await fn(server.path, bridge, () => {
          const r = [...conns.values()];
          conns.clear();
          return r;
        });
      } finally {
        await server.close();
      }
    }

    const netdevLocal: OfpPortDesc = {
      portNo: OFPP_LOCAL,
      name: 'br0',
      hwAddr: '7e:cc:79:af:cd:44',
      config: OFPPC.PORT_DOWN,
      state: OFPPS.LINK_DOWN,
      curr: NETDEV_F['10GB_FD'] | NETDEV_F.COPPER,
    };
    const portTypes = showBlocks().find((b) => b.file === 'netdev-port_types.txt' && b.ports.length >= 10)!;
    const odd: OfpPortDesc[] = [
      netdevLocal,
      { portNo: 1, name: 'p1', hwAddr: '00:01:02:03:04:05', config: 0x7f, state: 0x301, curr: 0xffff, advertised: 0x2a, supported: 0x1005, peer: 0x8000 },
      { portNo: 2, name: 'we\u0001ird', hwAddr: '00:01:02:03:04:06', state: OFPPS.STP_LEARN },
      { portNo: 3, name: 'stp-block-down', hwAddr: '00:01:02:03:04:07', state: OFPPS.STP_BLOCK | OFPPS.LINK_DOWN },
      { portNo: 0xfeff, name: 'sixteen-chars-xx', hwAddr: '00:01:02:03:04:08', state: 6, config: 0x65, currSpeed: 12345678, maxSpeed: 999 },
      { portNo: OFPP_CONTROLLER, name: 'ctl', hwAddr: '00:01:02:03:04:09' },
      { portNo: 40, name: 'ünïcode', hwAddr: 'fe:ff:ff:ff:ff:ff', curr: NETDEV_F['100GB_FD'] | NETDEV_F.FIBER, supported: NETDEV_F['1TB_FD'] },
    ];
    const many = (n: number): OfpPortDesc[] => [
      netdevLocal,
      ...Array.from({ length: n - 1 }, (_, i) => ({
        portNo: i + 1,
        name: `p${i + 1}`,
        hwAddr: new Uint8Array([0xaa, 0x55, 0, 0, (i + 1) >> 8, (i + 1) & 0xff]),
        config: i % 3 ? 0 : OFPPC.PORT_DOWN,
        state: i % 5 ? 0 : OFPPS.LINK_DOWN,
        curr: i % 2 ? NETDEV_F['1GB_FD'] : 0,
      })),
    ];
    const PORT_SETS: Array<[string, OfpPortDesc[]]> = [
      ['LOCAL only (netdev: a down tap)', [netdevLocal]],
      ['LOCAL only (kernel/dummy: no features)', [{ portNo: OFPP_LOCAL, name: 'br0', hwAddr: '7a:72:77:13:df:4a' }]],
      [`${portTypes.file}:${portTypes.line}: LOCAL + ${portTypes.ports.length - 1} ports, some down`, [...portTypes.ports].reverse()],
      ['odd bits, names and numbers', odd],
      ['1,363 ports: the last that fit in an OpenFlow 1.0 features reply', many(1363)],
      ['1,364 ports: OFPST_PORT_DESC needed', many(1364)],
      ['3,000 ports: three port-description replies', many(3000)],
    ];
    const VERSION_ARGS: string[][] = [
      [],
      ['-O', 'OpenFlow11'],
      ['-O', 'OpenFlow12'],
      ['-O', 'OpenFlow13'],
      ['-O', 'OpenFlow14'],
      ['-O', 'OpenFlow15'],
      ['-O', 'OpenFlow10,OpenFlow13'],
    ];

    for (const [label, ports] of PORT_SETS) {
      it(`show: ${label}`, async () => {
        await withServer(ports, async (path, bridge, received) => {
          for (const vargs of VERSION_ARGS) {
            for (const target of [`unix:${path}`, bridge]) {
              const env = { OVS_RUNDIR: dir };
              const real = await execReal([...vargs, 'show', target], env);
              const realWire = received();
              const ours = await runOurs([...vargs, 'show', target], env);
              const ourWire = received();
              expect(ours, `${vargs.join(' ')} show ${target}`).toEqual(real);
              expect(real.code).toBe(0);
              expect(ourWire).toEqual(realWire);
            }
          }
        });
      });
    }

    it("the request bytes: OpenFlow 1.0 hello xid 1 + features xid 2, then a second connection's hello xid 3 + get-config xid 4", async () => {
      await withServer([netdevLocal], async (path, _bridge, received) => {
        const real = await execReal(['show', `unix:${path}`], {});
        expect(real.stdout).toContain('OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=0\n');
        expect(received()).toEqual([
          ['0100000800000001', '0105000800000002'],
          ['0100000800000003', '0107000800000004'],
        ]);
      });
      await withServer(many(1364), async (path, _bridge, received) => {
        await execReal(['show', `unix:${path}`], {});
        // The OpenFlow 1.0 OFPST_PORT_DESC request (stats type 13) takes xid 3.
        expect(received()).toEqual([
          ['0100000800000001', '0105000800000002', '0110000c00000003000d0000'],
          ['0100000800000004', '0107000800000005'],
        ]);
      });
      await withServer([netdevLocal], async (path, _bridge, received) => {
        await execReal(['-O', 'OpenFlow15', 'show', `unix:${path}`], {});
        // -O OpenFlow15: the hello needs a version bitmap (0x40 is not "1.0 up to N"); the port request names OFPP_ANY.
        expect(received()).toEqual([
          ['060000100000000100010008' + '00000040', '0605000800000002', '0612001800000003000d000000000000ffffffff00000000'],
          ['060000100000000400010008' + '00000040', '0607000800000005'],
        ]);
      });
    });

    it('our bin/ovs-ofctl.js (the built package) as a program', async () => {
      const bin = fileURLToPath(new URL('../bin/ovs-ofctl.js', import.meta.url));
      await withServer(odd, async (path) => {
        const real = await execReal(['show', `unix:${path}`], {});
        const ours = await new Promise<Run>((resolve) => {
          execFile(process.execPath, [bin, 'show', `unix:${path}`], { encoding: 'utf8' }, (err, stdout, stderr) => {
            resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
          });
        });
        expect(ours).toEqual(real);
      });
    });

    describe('failures: the same texts and exit status', () => {
      const same = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> => {
        const real = await execReal(args, env);
        const ours = await runOurs(args, env);
        expect({ ...ours, stderr: maskTime(ours.stderr) }, args.join(' ')).toEqual({ ...real, stderr: maskTime(real.stderr) });
        return real;
      };

      it('no such bridge, no such socket, not a socket, unknown method, usage errors', async () => {
        writeFileSync(join(dir, 'plain.mgmt'), '');
        const env = { OVS_RUNDIR: dir };
        for (const args of [
          ['show', 'br-none'],
          ['show', `unix:${dir}/none.mgmt`],
          ['show', 'unix:none.mgmt'],
          ['show', 'plain'],
          ['show', `unix:${dir}/plain.mgmt`],
          ['show', 'foo:bar'],
          [],
          ['show'],
          ['show', 'a', 'b'],
          ['bogus'],
          ['--bogus'],
          ['-x'],
          ['-O'],
          ['-O', 'OpenFlow16', 'show', 'x'],
          ['-t', '0', 'show', 'x'],
          ['--s'],
          ['--version'],
          ['-V'],
        ]) {
          const r = await same(args, env);
          expect(r.code === 0 || r.stderr.startsWith('ovs-ofctl: ')).toBe(true);
        }
      });

      it('no common version (-O OpenFlow13 against a bridge limited to OpenFlow 1.0), and the reverse', async () => {
        await withServer(
          [netdevLocal],
          async (path) => {
            const r = await same(['-O', 'OpenFlow13', 'show', `unix:${path}`]);
            expect(r.code).toBe(1);
          },
          0x02,
        );
        await withServer(
          [netdevLocal],
          async (path) => {
            await same(['show', `unix:${path}`]);
          },
          0x10,
        );
      });

      /** A misbehaving switch on a raw socket. */
      async function rawSwitch(onConnect: (write: (b: Uint8Array) => void, end: () => void) => void, fn: (path: string) => Promise<void>): Promise<void> {
        const path = join(dir, `raw${serial++}.mgmt`);
        const server: Server = createServer((sock) => {
          sock.on('error', () => undefined);
          sock.resume(); // read (and drop) what the client sends, so its hang-up is seen
          onConnect(
            (b) => sock.write(b),
            () => sock.end(),
          );
        });
        await new Promise<void>((r) => server.listen(path, r));
        try {
          await fn(path);
        } finally {
          await new Promise<void>((r) => server.close(() => r()));
        }
      }

      it('a switch that hangs up at once, one that does not say hello, one that sends a too-short header, one that drops mid-packet', async () => {
        await rawSwitch(
          (_w, end) => end(),
          (p) => same(['show', `unix:${p}`]).then(() => undefined),
        );
        await rawSwitch(
          (w, end) => {
            w(encodeMessage({ type: 'FEATURES_REQUEST', version: 1, xid: 77 }));
            setTimeout(end, 200);
          },
          (p) => same(['show', `unix:${p}`]).then(() => undefined),
        );
        await rawSwitch(
          (w) => w(new Uint8Array([1, 0, 0, 4, 0, 0, 0, 1])),
          (p) => same(['show', `unix:${p}`]).then(() => undefined),
        );
        await rawSwitch(
          (w, end) => {
            w(encodeMessage(encodeHelloFor(0x02, 1)));
            w(new Uint8Array([1, 6, 0, 80, 0, 0, 0, 2, 0, 0]));
            setTimeout(end, 200);
          },
          (p) => same(['show', `unix:${p}`]).then(() => undefined),
        );
      });

      it('a hello with junk after its bitmap (logged, then used)', async () => {
        await rawSwitch(
          (w) => {
            w(new Uint8Array(Buffer.from('0100001400000009' + '00010008' + '00000002' + '0002000c', 'hex')));
          },
          (p) => same(['-t', '1', 'show', `unix:${p}`]).then((r) => expect(r.code).toBe(142)),
        );
      });
    });

    describe('the printer: ovs-ofctl ofp-parse prints what formatMessage(bytes, 2) prints', () => {
      const parse = async (messages: Uint8Array[]): Promise<void> => {
        const file = join(dir, `corpus${serial++}.bin`);
        writeFileSync(file, Buffer.concat(messages.map((m) => Buffer.from(m))));
        const real = await execReal(['ofp-parse', file], {});
        expect(real.code).toBe(0);
        expect(messages.map((m) => formatMessage(m, 2)).join('')).toBe(real.stdout);
      };

      it('a corpus: every message type in every version, errors, odd hellos, bad messages', async () => {
        const b = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
        const msgs: Array<OfpMessage | Uint8Array> = [];
        for (let v = 1; v <= 6; v++) {
          msgs.push(buildFeaturesReply(v, 2, 0x7ecc79afcd44n, odd));
          msgs.push(...buildPortDescReplies(v, 3, odd));
          msgs.push({ type: 'PORT_DESC_REPLY', version: v, xid: 3, flags: 0x8003, ports: [encodePhyPort(v, odd[1]!)] });
          msgs.push(
            v >= 6
              ? { type: 'PORT_DESC_REQUEST', version: v, xid: 3, flags: 1, portNo: 0xffffffff }
              : { type: 'PORT_DESC_REQUEST', version: v, xid: 3, flags: v >= 4 ? 1 : 0 },
          );
          if (v >= 6)
            msgs.push(
              { type: 'PORT_DESC_REQUEST', version: v, xid: 3, flags: 0, portNo: 0xfffffffe },
              { type: 'PORT_DESC_REQUEST', version: v, xid: 3, flags: 0, portNo: 7 },
            );
          msgs.push(
            { type: 'GET_CONFIG_REPLY', version: v, xid: 4, flags: 5, missSendLen: 128 },
            { type: 'SET_CONFIG', version: v, xid: 4, flags: 3, missSendLen: 0xffff },
          );
          msgs.push(
            { type: 'FEATURES_REQUEST', version: v, xid: 0xffffffff },
            { type: 'GET_CONFIG_REQUEST', version: v, xid: 1 },
            { type: 'BARRIER_REQUEST', version: v, xid: 1 },
            { type: 'BARRIER_REPLY', version: v, xid: 1 },
          );
          msgs.push(encodeHelloFor(1 << v, 1), encodeHelloFor(0x7e, 1), encodeHelloFor(0x12, 5));
          msgs.push(
            { type: 'ECHO_REQUEST', version: v, xid: 1, data: new Uint8Array(20).map((_, i) => i * 7) },
            { type: 'ECHO_REPLY', version: v, xid: 1, data: new Uint8Array(0) },
          );
          msgs.push(encodeErrorMessage('OFPBRC_BAD_TYPE', v, 9, encodeMessage({ type: 'FEATURES_REQUEST', version: v, xid: 9 })));
          msgs.push(encodeErrorMessage('OFPSCFC_BAD_FLAGS', v, 9, encodeMessage({ type: 'SET_CONFIG', version: v, xid: 9, flags: 0x80, missSendLen: 0 })));
          msgs.push(encodeErrorMessage('OFPHFC_INCOMPATIBLE', v, 0, new TextEncoder().encode('We support "x"\\ \n')));
          msgs.push(encodeErrorMessage('OFPBRC_BAD_VERSION', v, 9, encodeMessage({ type: 'FEATURES_REQUEST', version: 7 - v, xid: 9 })));
          msgs.push(encodeErrorMessage('OFPBAC_BAD_OUT_PORT', v, 9, encodeMessage({ type: 'BARRIER_REQUEST', version: v, xid: 9 })));
        }
        msgs.push(
          b('0100001400000001000100080000001200020004'), // hello + junk
          b('0900000800000001'), // hello of a future version
          b('0900001000000001000100080000ff00'),
          b('01c8000800000002'), // unknown type
          b('0110000c000000020032ffff'), // unknown stats
          b('01040010000000021234567800000000'), // unknown vendor
          b('0104001000000002000023200000ffff'), // Nicira, unknown subtype
          b('0405000900000002ff'), // bad length
          b('0101000c00000002ffff0000'), // experimenter error, short
          b('04010014000000020001000100000000000000ff'), // error quoting a 0-length "message"
        );
        await parse(msgs.map((m) => (m instanceof Uint8Array ? m : encodeMessage(m))));
      });

      it('random messages (fast-check, fixed seed)', async () => {
        const u32 = fc.nat(0xffffffff);
        const port = (v: number): fc.Arbitrary<OfpPhyPort> =>
          fc.record({
            portNo: v === 1 ? fc.nat(0xffff) : fc.oneof(fc.nat(0xfeff), fc.integer({ min: 0xffffff00, max: 0xffffffff })),
            hwAddr: fc.uint8Array({ minLength: 6, maxLength: 6 }),
            name: fc.string({ unit: 'grapheme-ascii', maxLength: 15 }),
            config: u32,
            state: u32,
            curr: u32,
            advertised: u32,
            supported: u32,
            peer: u32,
            currSpeed: v === 1 ? fc.constant(0) : u32,
            maxSpeed: v === 1 ? fc.constant(0) : u32,
          });
        const msg = fc.integer({ min: 1, max: 6 }).chain((version): fc.Arbitrary<OfpMessage> => {
          const base = { version: fc.constant(version), xid: u32 };
          return fc.oneof(
            fc.record({
              ...base,
              type: fc.constant('FEATURES_REPLY' as const),
              datapathId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
              nBuffers: u32,
              nTables: fc.nat(255),
              auxiliaryId: version >= 4 ? fc.nat(255) : fc.constant(0),
              capabilities: u32,
              actions: u32,
              ports: version >= 4 ? fc.constant<OfpPhyPort[]>([]) : fc.array(port(version), { maxLength: 5 }),
            }),
            fc.record({ ...base, type: fc.constant('PORT_DESC_REPLY' as const), flags: fc.nat(0xffff), ports: fc.array(port(version), { maxLength: 5 }) }),
            fc.record({
              ...base,
              type: fc.constantFrom('GET_CONFIG_REPLY' as const, 'SET_CONFIG' as const),
              flags: fc.nat(0xffff),
              missSendLen: fc.nat(0xffff),
            }),
            fc.record({
              ...base,
              type: fc.constant('HELLO' as const),
              elements: fc.array(fc.record({ type: fc.nat(3), data: fc.uint8Array({ maxLength: 12 }) }), { maxLength: 3 }),
            }),
            fc.record({ ...base, type: fc.constantFrom('ECHO_REQUEST' as const, 'ECHO_REPLY' as const), data: fc.uint8Array({ maxLength: 40 }) }),
          );
        });
        await parse(fc.sample(msg, { numRuns: 400, seed: 20261122 }).map(encodeMessage));
      });
    });
  });
else
  describe('real ovs-ofctl differential tests', () => {
    it(`is not run here: ${reason}`, () => {
      expect(haveOfctl).toBe(false);
    });
  });
