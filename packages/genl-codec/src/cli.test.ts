/**
 * The ovs-genl command: decode hex and real captures, encode JSON back, and
 * clear errors with exit status 1 (bad input) or 2 (usage).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { readCapture } from './pcap.js';
import { GOLDEN_DIR, loadGolden } from './testing/golden.js';

async function run(args: string[], input: string | Buffer = ''): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    readInput: (file) => (file === '-' ? Buffer.from(input) : readFileSync(file)),
  });
  return { code, out, err };
}

// ovs-dpctl's first request in dpctl-datapath.json: CTRL_CMD_GETFAMILY name=ovs_datapath, and the reply.
const golden = loadGolden('dpctl-datapath.json').messages;
const GETFAMILY = golden[0]!.hex;
const NEWFAMILY = golden[1]!.hex;

describe('ovs-genl decode', () => {
  it('prints a message as text, naming family, command, flags and attributes', async () => {
    const r = await run(['decode'], `${GETFAMILY}\n`);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toBe(
      ['nlctrl CTRL_CMD_GETFAMILY len=40 seq=1 pid=177 flags=REQUEST version=1', '  CTRL_ATTR_FAMILY_NAME: "ovs_datapath"'].join('\n'),
    );
  });

  it('prints JSON keyed by uapi names, and learns family ids from CTRL_CMD_NEWFAMILY replies', async () => {
    const vportNew = loadGolden('dpctl-ports.json').messages.find((m) => m.cmd === 'OVS_VPORT_CMD_NEW' && m.dir === 'to-kernel')!;
    const r = await run(['decode', '--json'], [NEWFAMILY, golden[3]!.hex, `# the vport family is learned from the reply above`, vportNew.hex].join('\n'));
    expect(r.code).toBe(0);
    const msgs = r.out.map((l) => JSON.parse(l));
    expect(msgs[0]).toMatchObject({ family: 'nlctrl', cmd: 'CTRL_CMD_NEWFAMILY', attrs: { CTRL_ATTR_FAMILY_NAME: 'ovs_datapath', CTRL_ATTR_FAMILY_ID: 32 } });
    expect(msgs[2]).toMatchObject({
      protocol: 'NETLINK_GENERIC',
      family: 'ovs_vport',
      cmd: 'OVS_VPORT_CMD_NEW',
      nlmsg_flags: ['REQUEST', 'ECHO'],
      attrs: { OVS_VPORT_ATTR_TYPE: 'OVS_VPORT_TYPE_NETDEV', OVS_VPORT_ATTR_NAME: 'veth0' },
    });
    expect(typeof msgs[2].dp_ifindex).toBe('number');
  });

  it('takes family ids with --family', async () => {
    const vportGet = loadGolden('dpctl-ports.json').messages.find((m) => m.cmd === 'OVS_VPORT_CMD_GET' && m.dir === 'to-kernel')!;
    const without = await run(['decode', '--json'], vportGet.hex);
    expect(JSON.parse(without.out[0]!).payload).toBeDefined();
    const withIds = await run(['decode', '--json', '--family', 'ovs_vport=33'], vportGet.hex);
    expect(JSON.parse(withIds.out[0]!).family).toBe('ovs_vport');
  });

  it('decodes a gzipped nlmon pcap, with each packet protocol from the capture', async () => {
    const r = await run(['decode', '--json', `${GOLDEN_DIR}pcap/dpctl-datapath.pcap.gz`]);
    expect(r.code).toBe(0);
    const msgs = r.out.map((l) => JSON.parse(l));
    const protocols = new Set(msgs.map((m) => m.protocol));
    expect(protocols).toEqual(new Set(['NETLINK_ROUTE', 'NETLINK_GENERIC']));
    // Every generic netlink message of the capture decodes to a known family once ids are learned.
    for (const m of msgs.filter((x) => x.protocol === 'NETLINK_GENERIC' && !String(x.nlmsg_type).startsWith('NLMSG'))) {
      expect(m.family, JSON.stringify(m).slice(0, 200)).toBeDefined();
    }
  });

  it('names the offset of bad input and exits 1', async () => {
    const cases: Array<[string, RegExp]> = [
      ['1000', /line 1: at offset 0: truncated nlmsghdr \(2 bytes, need 16\)/],
      ['0c000000100001000100000000000000', /nlmsg_len 12 is shorter than the 16-byte header/],
      ['40000000100001000100000000000000', /nlmsg_len 64 runs past the buffer \(16 bytes left\)/],
      // CTRL_CMD_GETFAMILY whose attribute claims 3 bytes.
      ['180000001000010001000000000000000301000003000200', /at offset 20: attribute length 3 is shorter than its 4-byte header/],
      ['1c0000001000010001000000000000000301000008000200616263ff', /CTRL_ATTR_FAMILY_NAME: string attribute without a NUL terminator/],
      ['1c000000100001000100000000000000030100000800010001000000', /CTRL_ATTR_FAMILY_ID: u16 payload must be 2 bytes, got 4/],
      ['zz', /line 1: not hex/],
    ];
    for (const [input, re] of cases) {
      const r = await run(['decode'], input);
      expect(r.code, input).toBe(1);
      expect(r.err.join('\n')).toMatch(re);
    }
  });

  it('reports a corrupt capture and exits 1', async () => {
    const pcap = gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/raw-genl.pcap.gz`));
    const r = await run(['decode', '-'], pcap.subarray(0, 100));
    expect(r.code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['decode', '--protocol', 'bogus'])).code).toBe(2);
    expect((await run(['decode', '--nope'])).code).toBe(2);
    expect((await run(['decode', '--family', 'ovs_vport'])).code).toBe(2);
  });
});

describe('ovs-genl encode', () => {
  it('decode --json | encode reproduces every input byte of every golden capture', async () => {
    for (const file of ['dpctl-datapath.json', 'dpctl-errors.json', 'raw-genl.json', 'vswitchd-ports.json']) {
      const msgs = loadGolden(file).messages;
      // One protocol per run, as the hex input carries none.
      for (const [protocol, name] of [
        ['generic', 'NETLINK_GENERIC'],
        ['route', 'NETLINK_ROUTE'],
      ] as const) {
        const hexes = msgs.filter((m) => m.protocol === name).map((m) => m.hex);
        const decoded = await run(['decode', '--json', '--lenient', '--protocol', protocol], hexes.join('\n'));
        expect(decoded.code).toBe(0);
        const encoded = await run(['encode'], decoded.out.join('\n'));
        expect(encoded.err).toEqual([]);
        expect(encoded.out).toEqual(hexes);
      }
    }
  });

  it('rejects malformed JSON and unknown names with exit 1', async () => {
    expect((await run(['encode'], '{"family": ')).code).toBe(1);
    const unknown = await run(
      ['encode'],
      JSON.stringify({ family: 'ovs_vport', nlmsg_type: 33, cmd: 'OVS_VPORT_CMD_NEW', attrs: { OVS_VPORT_ATTR_BOGUS: 1 } }),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/unknown attribute "OVS_VPORT_ATTR_BOGUS"/);
    const range = await run(
      ['encode'],
      JSON.stringify({ family: 'ovs_vport', nlmsg_type: 33, cmd: 'OVS_VPORT_CMD_NEW', attrs: { OVS_VPORT_ATTR_PORT_NO: 2 ** 32 } }),
    );
    expect(range.err[0]).toMatch(/OVS_VPORT_ATTR_PORT_NO: 4294967296 is out of range/);
  });
});

describe('pcap reader', () => {
  it('finds every golden message in its capture frame', () => {
    for (const [json, pcap] of [
      ['dpctl-datapath.json', 'dpctl-datapath.pcap.gz'],
      ['dpctl-ports.json', 'dpctl-ports.pcap.gz'],
      ['dpctl-errors.json', 'dpctl-errors.pcap.gz'],
      ['raw-genl.json', 'raw-genl.pcap.gz'],
    ] as const) {
      const packets = readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/${pcap}`)));
      for (const m of loadGolden(json).messages) {
        const p = packets[m.packet]!;
        expect(Buffer.from(p.data).toString('hex'), `${pcap} frame ${m.packet}`).toContain(m.hex);
        expect(p.protocol).toBe({ NETLINK_ROUTE: 0, NETLINK_NETFILTER: 12, NETLINK_GENERIC: 16 }[m.protocol]);
      }
    }
  });
});

/** A pcapng file (SHB, one IDB with if_tsresol, EPBs) holding the given cooked nlmon packets. */
function toPcapng(packets: Array<{ data: Uint8Array; protocol: number }>): Buffer {
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length;
    const b = Buffer.alloc(len);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    body.copy(b, 8);
    b.writeUInt32LE(len, len - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  // IDB: LINKTYPE_NETLINK, snaplen 0, option if_tsresol = 9 (nanoseconds), end of options.
  const idb = Buffer.from([253, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
  const epbs = packets.map((p, i) => {
    const cooked = Buffer.alloc(16);
    cooked.writeUInt16BE(0x0338, 2); // ARPHRD_NETLINK
    cooked.writeUInt16BE(p.protocol, 14);
    const data = Buffer.concat([cooked, Buffer.from(p.data)]);
    const body = Buffer.alloc(20 + ((data.length + 3) & ~3));
    body.writeUInt32LE(0, 0);
    body.writeUInt32LE(0, 4);
    body.writeUInt32LE(i * 1000, 8);
    body.writeUInt32LE(data.length, 12);
    body.writeUInt32LE(data.length, 16);
    data.copy(body, 20);
    return block(6, body);
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...epbs]);
}

describe('pcapng', () => {
  it('reads the same packets from a pcapng file as from the pcap it was made from', () => {
    const packets = readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/dpctl-ports.pcap.gz`)));
    const again = readCapture(toPcapng(packets));
    expect(again.map((p) => [p.protocol, Buffer.from(p.data).toString('hex')])).toEqual(packets.map((p) => [p.protocol, Buffer.from(p.data).toString('hex')]));
    expect(again[3]!.time).toBeCloseTo(3e-6, 9); // 3000 ns with if_tsresol 10^-9
  });

  it('decodes a pcapng capture through the CLI, and reports a truncated one', async () => {
    const packets = readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/dpctl-ports.pcap.gz`)));
    const file = toPcapng(packets);
    const ok = await run(['decode', '--json', '--only', 'generic', '-'], file);
    expect(ok.code).toBe(0);
    expect(ok.out.length).toBeGreaterThan(100);
    const bad = await run(['decode', '-'], file.subarray(0, 300));
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/ovs-genl: at offset \d+: /);
  });
});
