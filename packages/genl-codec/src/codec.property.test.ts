/**
 * Property tests: typed messages of every family survive encode -> decode and
 * JSON; random and mutated bytes never make the decoder throw, and whatever
 * decodes re-encodes to the same bytes.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttrSet } from './attr-set.js';
import type { ValueCodec } from './codecs.js';
import { StructCodec } from './struct.js';
import { messageFromJson, messageToJson } from './json.js';
import type { GenlFamilyDef } from './genl.js';
import { type GenlMessage, KNOWN_FAMILIES, type Message, decode, encode, encodeAll, newFamilyTable } from './message.js';
import { NLM_F } from './netlink.js';
import { RTM, type RtnlMessage } from './rtnetlink.js';
import { type IfAddrMsg, type RtMsg, ifaAttrs, ifaddrmsg, rtaAttrs, rtmsg } from './rtnetlink-route.js';
import { readCapture } from './pcap.js';
import { GOLDEN_DIR, GOLDEN_FILES, PROTOCOLS, hexToBytes, loadGolden } from './testing/golden.js';

const IDS: Record<string, number> = { ethtool: 20, ovs_datapath: 32, ovs_vport: 33, ovs_flow: 34, ovs_packet: 35, ovs_meter: 36, ovs_ct_limit: 37 };

function valueArb(codec: ValueCodec<unknown>, depth: number): fc.Arbitrary<unknown> | undefined {
  if (codec instanceof StructCodec) {
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of codec.fields) {
      if (f.type.startsWith('bytes')) {
        const n = Number(f.type.slice(5));
        fields[f.key] = fc.uint8Array({ minLength: n, maxLength: n });
      } else {
        fields[f.key] = valueArb({ kind: f.type } as unknown as ValueCodec<unknown>, depth)!;
      }
    }
    return fc.record(fields);
  }
  switch (codec.kind) {
    case 'u8':
      return fc.nat(0xff);
    case 'u16':
    case 'be16':
      return fc.nat(0xffff);
    case 'u32':
    case 'be32':
      return fc.nat(0xffffffff);
    case 's8':
      return fc.integer({ min: -128, max: 127 });
    case 's16':
      return fc.integer({ min: -32768, max: 32767 });
    case 's32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'u64':
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 's64':
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'flag':
      return fc.constant(true);
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));
    case 'binary':
      return fc.uint8Array({ maxLength: 24 });
    case 'inaddr':
      return fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 24 }));
    case 'u32[]':
      return fc.array(fc.nat(0xffffffff), { maxLength: 4 });
    case 'nested':
      return depth > 2 ? undefined : attrsArb(codec.policy.nested!, depth + 1);
    case 'nested[]':
      return depth > 2 ? undefined : fc.array(attrsArb(codec.policy.nested!, depth + 1), { maxLength: 3 });
    default:
      return undefined;
  }
}

function attrsArb(set: AttrSet, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const e of set.entries) {
    const arb = valueArb(e.def.codec, depth);
    if (arb) fields[e.key] = arb;
  }
  return fc.record(fields, { requiredKeys: [] });
}

const headerArb = fc.record({ flags: fc.nat(0xffff), seq: fc.nat(0xffffffff), pid: fc.nat(0xffffffff) });

/**
 * A command and NLM_F_REQUEST bit: any for most families; for one whose
 * attributes depend on the command (ethtool), those its set describes.
 */
function cmdArb(family: GenlFamilyDef): fc.Arbitrary<{ cmd: number; request: boolean | undefined }> {
  const only = family.attrsCmds;
  if (only === undefined) return fc.record({ cmd: fc.nat(0xff), request: fc.constant(undefined) });
  return fc.oneof(
    fc.record({ cmd: fc.constantFrom(...only.request), request: fc.constant(true) }),
    fc.record({ cmd: fc.constantFrom(...only.kernel), request: fc.constant(false) }),
  );
}

const genlArb: fc.Arbitrary<GenlMessage> = fc.constantFrom(...KNOWN_FAMILIES.values()).chain((family) =>
  fc
    .record({
      header: headerArb,
      command: cmdArb(family),
      version: fc.nat(0xff),
      reserved: fc.nat(0xffff),
      dpIfindex: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      attrs: attrsArb(family.attrs),
    })
    .map(({ header, command, dpIfindex, attrs, ...rest }) => {
      const flags = command.request === undefined ? header.flags : command.request ? header.flags | NLM_F.REQUEST : header.flags & ~NLM_F.REQUEST;
      const msg: GenlMessage = {
        kind: 'genl',
        protocol: 16,
        header: { len: 0, type: family.name === 'nlctrl' ? 16 : IDS[family.name]!, ...header, flags },
        family,
        cmd: command.cmd,
        ...rest,
        attrs,
      };
      if (family.userHeader) msg.dpIfindex = dpIfindex;
      return msg;
    }),
);

/** RTM_NEW/DEL/GETADDR and RTM_NEW/DEL/GETROUTE with random fixed structs and attributes. */
const rtnlArb: fc.Arbitrary<RtnlMessage> = fc.oneof(
  fc.record({ header: headerArb, type: fc.constantFrom(RTM.NEWADDR, RTM.DELADDR, RTM.GETADDR), fixed: valueArb(ifaddrmsg, 0)!, attrs: attrsArb(ifaAttrs) }).map(
    ({ header, type, fixed, attrs }): RtnlMessage => ({
      kind: 'rtnl',
      protocol: 0,
      header: { len: 0, type, ...header },
      family: 'addr',
      ifaddrmsg: fixed as IfAddrMsg,
      attrs,
    }),
  ),
  fc.record({ header: headerArb, type: fc.constantFrom(RTM.NEWROUTE, RTM.DELROUTE, RTM.GETROUTE), fixed: valueArb(rtmsg, 0)!, attrs: attrsArb(rtaAttrs) }).map(
    ({ header, type, fixed, attrs }): RtnlMessage => ({
      kind: 'rtnl',
      protocol: 0,
      header: { len: 0, type, ...header },
      family: 'route',
      rtmsg: fixed as RtMsg,
      attrs,
    }),
  ),
);

function families() {
  return newFamilyTable(IDS);
}

describe('property: typed messages round-trip', () => {
  it('decode(encode(m)) equals m for random messages of every family', () => {
    fc.assert(
      fc.property(genlArb, (m) => {
        const bytes = encode(m);
        const r = decode(bytes, { families: families() });
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.messages).toHaveLength(1);
        expect(r.messages[0]).toEqual({ ...m, header: { ...m.header, len: bytes.length } });
      }),
      { numRuns: 400 },
    );
  });

  it('decode(encode(m)) equals m for random address and route messages', () => {
    fc.assert(
      fc.property(rtnlArb, (m) => {
        const bytes = encode(m);
        const r = decode(bytes, { protocol: 0 });
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.messages).toEqual([{ ...m, header: { ...m.header, len: bytes.length } }]);
      }),
      { numRuns: 400 },
    );
  });

  it('JSON round trip gives the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(genlArb, rtnlArb), (m) => {
        const bytes = encode(m);
        const json = JSON.parse(JSON.stringify(messageToJson(m, families())));
        expect(encode(messageFromJson(json, families()))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});

function checkTotal(bytes: Uint8Array, protocol: number): void {
  let r: ReturnType<typeof decode>;
  expect(() => {
    r = decode(bytes, { protocol, families: families() });
  }).not.toThrow();
  r = r!;
  if (r.ok) {
    // Whatever decodes re-encodes to the same bytes (up to the final padding).
    let off = 0;
    let end = 0;
    for (const m of r.messages) {
      end = off + m.header.len;
      off = (end + 3) & ~3;
    }
    expect(Buffer.from(encodeAll(r.messages)).toString('hex')).toBe(Buffer.from(bytes.subarray(0, end)).toString('hex'));
    for (const m of r.messages) expect(() => messageToJson(m as Message, families())).not.toThrow();
  } else {
    expect(r.error.offset).toBeGreaterThanOrEqual(0);
    expect(r.error.offset).toBeLessThanOrEqual(bytes.length);
  }
}

// The JSON captures, and the rtnetlink frames (route and address dumps) only the pcaps hold.
const goldenMessages = [
  ...GOLDEN_FILES.flatMap((f) => loadGolden(f).messages).map((m) => ({ bytes: hexToBytes(m.hex), protocol: PROTOCOLS[m.protocol]! })),
  ...readCapture(gunzipSync(readFileSync(`${GOLDEN_DIR}pcap/dpctl-datapath.pcap.gz`)))
    .filter((p) => p.protocol === 0)
    .map((p) => ({ bytes: p.data, protocol: 0 })),
];

describe('property: decoding is total', () => {
  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 16, 12), (bytes, protocol) => checkTotal(bytes, protocol)),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a valid-looking header never throw', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.constantFrom(2, 3, 16, 20, 21, 22, 24, 25, 26, 32, 33, 34, 35, 36, 37),
        fc.constantFrom(0, 16),
        (body, type, protocol) => {
          const bytes = new Uint8Array(16 + body.length);
          const dv = new DataView(bytes.buffer);
          dv.setUint32(0, bytes.length, true);
          dv.setUint16(4, type, true);
          bytes.set(body, 16);
          checkTotal(bytes, protocol);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('mutated golden messages never throw, and what decodes re-encodes exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...goldenMessages),
        fc.array(fc.tuple(fc.nat(), fc.nat(0xff)), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat()),
        ({ bytes, protocol }, flips, cut) => {
          const b = Uint8Array.from(bytes);
          for (const [i, v] of flips) b[i % b.length] = v;
          checkTotal(cut === null ? b : b.subarray(0, cut % (b.length + 1)), protocol);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
