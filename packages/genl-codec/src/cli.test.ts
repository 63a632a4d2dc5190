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

async function run(args: string[], input = ''): Promise<{ code: number; out: string[]; err: string[] }> {
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
    const r = await run(['decode', '-'], pcap.subarray(0, 100).toString('latin1'));
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
      for (const [protocol, name] of [['generic', 'NETLINK_GENERIC'], ['route', 'NETLINK_ROUTE']] as const) {
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
    const unknown = await run(['encode'], JSON.stringify({ family: 'ovs_vport', nlmsg_type: 33, cmd: 'OVS_VPORT_CMD_NEW', attrs: { OVS_VPORT_ATTR_BOGUS: 1 } }));
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/unknown attribute "OVS_VPORT_ATTR_BOGUS"/);
    const range = await run(['encode'], JSON.stringify({ family: 'ovs_vport', nlmsg_type: 33, cmd: 'OVS_VPORT_CMD_NEW', attrs: { OVS_VPORT_ATTR_PORT_NO: 2 ** 32 } }));
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
