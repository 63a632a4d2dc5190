/**
 * Every message of the golden captures (real OVS 3.1 <-> real Linux 6.1)
 * decodes, re-encodes byte for byte (directly and through JSON), and decodes
 * to the values the capture's own notes and fields state.
 */
import { describe, expect, it } from 'vitest';
import { errnoName } from './errno.js';
import { messageFromJson, messageToJson } from './json.js';
import { type Message, decode, encode, newFamilyTable } from './message.js';
import { OVS_VPORT_TYPE, ovsDatapathFamily, ovsVportFamily } from './ovs.js';
import { GOLDEN_FILES, PROTOCOLS, hexToBytes, loadGolden, noteFields } from './testing/golden.js';

const vportTypeNames = new Map(Object.entries(OVS_VPORT_TYPE).map(([k, v]) => [v, k.toLowerCase()]));

function decodeAll(file: string): Array<{ golden: ReturnType<typeof loadGolden>['messages'][number]; msg: Message }> {
  const families = newFamilyTable();
  return loadGolden(file).messages.map((golden) => {
    const r = decode(hexToBytes(golden.hex), { protocol: PROTOCOLS[golden.protocol]!, families, lenient: true });
    if (!r.ok) throw new Error(`${file} packet ${golden.packet}: ${r.error.message}`);
    expect(r.messages).toHaveLength(1);
    return { golden, msg: r.messages[0]! };
  });
}

describe.each(GOLDEN_FILES)('golden capture %s', (file) => {
  it('decodes every message and re-encodes it byte for byte', () => {
    for (const { golden, msg } of decodeAll(file)) {
      expect(Buffer.from(encode(msg)).toString('hex'), `packet ${golden.packet} ${golden.cmd}`).toBe(golden.hex);
    }
  });

  it('round-trips every message through JSON', () => {
    const families = newFamilyTable();
    for (const { golden, msg } of decodeAll(file)) {
      const json = JSON.parse(JSON.stringify(messageToJson(msg, families)));
      const back = messageFromJson(json, families);
      expect(Buffer.from(encode(back)).toString('hex'), `packet ${golden.packet} ${golden.cmd}`).toBe(golden.hex);
    }
  });

  it('decodes header fields, families and commands as the capture records them', () => {
    for (const { golden, msg } of decodeAll(file)) {
      expect(msg.header.len).toBe(golden.len);
      expect(msg.header.seq).toBe(golden.seq);
      expect(msg.header.pid).toBe(golden.pid);
      expect(msg.header.type).toBe(golden.nlmsg_type);
      if (msg.kind === 'genl') {
        expect(msg.family.name).toBe(golden.family);
        expect(msg.cmd).toBe(golden.genl_cmd);
        expect(msg.version).toBe(golden.genl_version);
      }
      if (golden.error !== undefined) {
        expect(msg.kind === 'error' || msg.kind === 'done').toBe(true);
        if (msg.kind === 'error' || msg.kind === 'done') {
          expect(msg.error).toBe(golden.error);
          if (golden.error !== 0) expect(errnoName(golden.error)).toBe(golden.errno);
          if (golden.ext_ack?.MSG) expect(msg.ext?.msg).toBe(golden.ext_ack.MSG);
          if (golden.ext_ack?.OFFS) expect(msg.ext?.offs).toBe(Buffer.from(golden.ext_ack.OFFS, 'hex').readUInt32LE(0));
        }
      }
    }
  });

  it('decodes OVS attributes to the values in the capture notes', () => {
    let checked = 0;
    for (const { golden, msg } of decodeAll(file)) {
      const f = noteFields(golden.note);
      if (msg.kind !== 'genl') continue;
      if (msg.family === ovsVportFamily || msg.family === ovsDatapathFamily) {
        if (f.dp_ifindex !== undefined) expect(msg.dpIfindex).toBe(Number(f.dp_ifindex));
      }
      if (msg.family === ovsVportFamily) {
        const a = (msg as Message & { attrs: import('./ovs.js').OvsVportAttrs }).attrs;
        if (f.port_no !== undefined) expect(a.portNo).toBe(Number(f.port_no));
        if (f.name !== undefined) expect(a.name).toBe(f.name);
        if (f.ifindex !== undefined) expect(a.ifindex).toBe(Number(f.ifindex));
        if (f.type !== undefined) {
          const m = /^(\S+)\((\d+)\)$/.exec(f.type);
          expect(m, f.type).not.toBeNull();
          expect(a.type).toBe(Number(m![2]));
          if (vportTypeNames.has(Number(m![2]) as never)) expect(vportTypeNames.get(Number(m![2]) as never)).toBe(m![1]);
        }
        if (f.upcall_pid?.startsWith('[')) expect(a.upcallPid).toEqual(JSON.parse(f.upcall_pid));
        if (f.options !== undefined) {
          const dst = /dst_port=(\d+)/.exec(f.options);
          if (dst) expect(a.options?.dstPort).toBe(Number(dst[1]));
          if (f.options.includes('extension=04000100')) expect(a.options?.extension?.gbp).toBe(true);
        }
        checked++;
      }
      if (msg.family === ovsDatapathFamily) {
        const a = (msg as Message & { attrs: import('./ovs.js').OvsDatapathAttrs }).attrs;
        if (f.name !== undefined) expect(a.name).toBe(f.name);
        if (f.user_features !== undefined) expect(a.userFeatures).toBe(Number(f.user_features));
        if (f.masks_cache_size !== undefined) expect(a.masksCacheSize).toBe(Number(f.masks_cache_size));
        if (f.upcall_pid?.startsWith('[')) expect([a.upcallPid]).toEqual(JSON.parse(f.upcall_pid));
        checked++;
      }
      if (msg.family.name === 'nlctrl') {
        const a = msg.attrs as import('./genl.js').CtrlAttrs;
        if (f.name !== undefined) expect(a.familyName).toBe(f.name);
        if (f.id !== undefined) expect(a.familyId).toBe(Number(f.id));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('golden: hand-checked messages', () => {
  const raw = decodeAll('raw-genl.json');

  it('CTRL_CMD_NEWFAMILY for ovs_datapath carries the family description the kernel reported', () => {
    const families = loadGolden('raw-genl.json').families;
    const reply = raw.find(({ golden }) => golden.cmd === 'CTRL_CMD_NEWFAMILY' && golden.note?.includes('id=32'))!.msg;
    expect(reply.kind).toBe('genl');
    const a = (reply as Message & { attrs: import('./genl.js').CtrlAttrs }).attrs;
    expect(a.familyName).toBe('ovs_datapath');
    expect(a.familyId).toBe(families.ovs_datapath!.id);
    expect(a.version).toBe(2);
    expect(a.hdrsize).toBe(4);
    expect(a.maxattr).toBe(9);
    // NEW, DEL, SET need CAP_NET_ADMIN in the netns (GENL_UNS_ADMIN_PERM|HASPOL|DO = 0x1a); GET also dumps (0x0e).
    expect(a.ops).toEqual([
      { id: 1, flags: 0x1a },
      { id: 2, flags: 0x1a },
      { id: 3, flags: 0x0e },
      { id: 4, flags: 0x1a },
    ]);
    expect(a.mcastGroups).toEqual([{ id: 9, name: 'ovs_datapath' }]);
  });

  it('a 21-byte vport name fails policy validation with an extended ack naming offset and policy', () => {
    const err = raw.find(({ golden }) => golden.cmd === 'NLMSG_ERROR' && golden.note?.includes('name longer than IFNAMSIZ-1'))!.msg;
    expect(err.kind).toBe('error');
    if (err.kind !== 'error') return;
    expect(err.error).toBe(-22);
    expect(err.ext?.msg).toBe('Attribute failed policy validation');
    // nlmsghdr 16 + genlmsghdr 4 + ovs_header 4 + TYPE attr 8 = 32: the NAME attribute.
    expect(err.ext?.offs).toBe(32);
    expect(err.ext?.policy?.type).toBe(12); // NL_ATTR_TYPE_NUL_STRING
    expect(err.ext?.policy?.maxLength).toBe(15); // IFNAMSIZ - 1
    const req = decode(err.request, { families: newFamilyTable({ ovs_vport: 33 }), lenient: true });
    expect(req.ok && req.messages[0]?.kind === 'genl' && (req.messages[0].attrs as { name?: string }).name).toBe('abcdefghijklmnopqrstu');
  });

  it('a vport NEW reply carries port number, type, name, ifindex, zero stats and the upcall pid', () => {
    const reply = raw.find(({ golden }) => golden.cmd === 'OVS_VPORT_CMD_NEW' && golden.dir === 'from-kernel' && golden.note?.includes('name=d2'))!.msg;
    expect(reply.kind).toBe('genl');
    const a = (reply as Message & { attrs: import('./ovs.js').OvsVportAttrs }).attrs;
    expect(a).toMatchObject({ portNo: 1, type: OVS_VPORT_TYPE.NETDEV, name: 'd2', ifindex: 28, upcallPid: [782] });
    expect(Object.values(a.stats!)).toEqual(new Array(8).fill(0n));
  });

  it('a vport dump of an unknown datapath ends in NLMSG_DONE carrying -ENODEV', () => {
    const done = raw.filter(({ msg }) => msg.kind === 'done' && msg.error === -19);
    expect(done.length).toBeGreaterThan(0);
  });

  it('the upcall (OVS_PACKET_CMD_MISS) decodes its flow key by name, without unknown attributes', () => {
    const miss = raw.find(({ golden }) => golden.cmd === 'OVS_PACKET_CMD_MISS')!.msg;
    expect(miss.kind).toBe('genl');
    const a = (miss as Message & { attrs: { key?: Record<string, unknown>; hash?: bigint; packet?: Uint8Array; unknown?: unknown } }).attrs;
    expect(a.unknown).toBeUndefined();
    expect(a.key?.unknown).toBeUndefined();
    expect(a.key?.ethertype).toBe(0x86dd); // IPv6
    expect(a.packet?.length).toBe(90);
    expect(typeof a.hash).toBe('bigint');
  });
});
