/**
 * The wire codec: bytes real Open vSwitch 3.1 sends (ovs-ofctl's requests as
 * captured in real-ovs.test.ts, the switch's hello from lib/ofp-util.c's
 * ofputil_encode_hello()), OVS's classification of bad messages
 * (lib/ofp-msgs.c: ofphdrs_decode(), ofpraw_check_length()), and fast-check
 * properties: typed messages round-trip; random and mutated bytes never make
 * the decoder throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodeMessageOrThrow,
  encodeHelloFor,
  encodeMessage,
  helloVersions,
  type OfpMessage,
  type OfpPhyPort,
  OfpFramer,
  versionBitmapFromVersion,
} from './codec.js';
import { OFPP_LOCAL, OFPPC, OFPPS, NETDEV_F } from './constants.js';
import { OfpDecodeError, OfpEncodeError } from './errors.js';
import { decodePhyPort, encodePhyPort, netdevFeaturesToOfp10, portToOfp11 } from './port.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('bytes Open vSwitch sends', () => {
  it("ovs-ofctl's OpenFlow 1.0 hello, features and get-config requests", () => {
    // As real ovs-ofctl 3.1 sends them for `show` (two connections: xids 1, 2 then 3, 4).
    expect(hex(encodeMessage(encodeHelloFor(0x02, 1)))).toBe('0100000800000001');
    expect(hex(encodeMessage({ type: 'FEATURES_REQUEST', version: 1, xid: 2 }))).toBe('0105000800000002');
    expect(hex(encodeMessage(encodeHelloFor(0x02, 3)))).toBe('0100000800000003');
    expect(hex(encodeMessage({ type: 'GET_CONFIG_REQUEST', version: 1, xid: 4 }))).toBe('0107000800000004');
  });

  it("a bridge's hello: version 0x06 and no bitmap, since OFPUTIL_DEFAULT_VERSIONS is 1.0...1.5 (ofputil_encode_hello)", () => {
    const hello = encodeHelloFor(0x7e, 9);
    expect(hex(encodeMessage(hello))).toBe('0600000800000009');
    expect(helloVersions(hello)).toEqual({ versions: 0x7e, ok: true });
    // Bridge.protocols = OpenFlow10,OpenFlow13: a bitmap is needed.
    expect(hex(encodeMessage(encodeHelloFor(0x12, 9)))).toBe('0400001000000009' + '00010008' + '00000012');
  });

  it('hellos without a bitmap for 1...N, with one otherwise (should_send_version_bitmap)', () => {
    expect(encodeHelloFor(0x1e, 1).elements).toEqual([]); // 1.0-1.3
    expect(encodeHelloFor(0x10, 1).elements.length).toBe(1); // 1.3 only
    expect(encodeHelloFor(0x12, 1).elements.length).toBe(1); // 1.0 + 1.3
    expect(versionBitmapFromVersion(1)).toBe(0x02);
    expect(versionBitmapFromVersion(4)).toBe(0x1e);
    expect(versionBitmapFromVersion(0xff)).toBe(0xfffffffe);
  });

  it('a features reply with the LOCAL port of a netdev bridge, 80 bytes', () => {
    const local = encodePhyPort(1, {
      portNo: OFPP_LOCAL,
      name: 'br0',
      hwAddr: '7e:cc:79:af:cd:44',
      config: OFPPC.PORT_DOWN,
      state: OFPPS.LINK_DOWN,
      curr: NETDEV_F['10GB_FD'] | NETDEV_F.COPPER,
    });
    const msg: OfpMessage = {
      type: 'FEATURES_REPLY',
      version: 1,
      xid: 2,
      datapathId: 0x7ecc79afcd44n,
      nBuffers: 0,
      nTables: 254,
      auxiliaryId: 0,
      capabilities: 0xc7,
      actions: 0xfff,
      ports: [local],
    };
    const b = encodeMessage(msg);
    expect(hex(b)).toBe(
      '0106005000000002' +
        '00007ecc79afcd44' +
        '00000000' +
        'fe000000' +
        '000000c7' +
        '00000fff' +
        'fffe' +
        '7ecc79afcd44' +
        '62723000000000000000000000000000' +
        '00000001' +
        '00000001' +
        '000000c0' +
        '00000000' +
        '00000000' +
        '00000000',
    );
    expect(decodeMessageOrThrow(b)).toEqual(msg);
  });

  it('OpenFlow 1.1+ numbers LOCAL 0xfffffffe; 1.0 moves COPPER...PAUSE_ASYM down 4 bits', () => {
    expect(portToOfp11(OFPP_LOCAL)).toBe(0xfffffffe);
    expect(netdevFeaturesToOfp10(NETDEV_F.COPPER | NETDEV_F['10GB_FD'])).toBe(0xc0);
    const desc = { portNo: 7, name: 'p7', hwAddr: new Uint8Array(6), curr: NETDEV_F['1GB_FD'], supported: NETDEV_F['10GB_FD'] };
    const w13 = encodePhyPort(4, desc);
    expect(w13.currSpeed).toBe(1_000_000);
    expect(w13.maxSpeed).toBe(10_000_000);
    expect(decodePhyPort(4, w13)).toMatchObject({ portNo: 7, curr: NETDEV_F['1GB_FD'], currSpeed: 1_000_000 });
    expect(decodePhyPort(1, encodePhyPort(1, desc))).toMatchObject({ curr: NETDEV_F['1GB_FD'], currSpeed: 1_000_000, maxSpeed: 10_000_000 });
  });

  it('port names keep at most 15 bytes, NUL-terminated (ovs_strlcpy_arrays)', () => {
    const long = encodeMessage({
      type: 'PORT_DESC_REPLY',
      version: 1,
      xid: 1,
      flags: 0,
      ports: [{ ...encodePhyPort(1, { portNo: 1, name: 'a-very-long-port-name', hwAddr: new Uint8Array(6) }) }],
    });
    const r = decodeMessageOrThrow(long);
    expect(r.type === 'PORT_DESC_REPLY' && r.ports[0]!.name).toBe('a-very-long-por');
    expect(long[12 + 8 + 15]).toBe(0);
  });
});

describe('bad messages, classified as OVS classifies them', () => {
  const err = (h: string): string => {
    const r = decodeMessage(bytes(h));
    if (r.ok) throw new Error('decoded');
    expect(r.error).toBeInstanceOf(OfpDecodeError);
    return r.error.ofperr;
  };
  it.each([
    ['features request with a body', '010500090000000200', 'OFPBRC_BAD_LEN'],
    ['get_config reply too short', '0108000a000000020000', 'OFPBRC_BAD_LEN'],
    ['1.0 features reply with half a port', '0106003800000002' + '00'.repeat(48), 'OFPBRC_BAD_LEN'],
    ['1.3 features reply with a port', '0406005000000002' + '00'.repeat(72), 'OFPBRC_BAD_LEN'],
    ['flow mod (not implemented here)', '010e000800000002', 'OFPBRC_BAD_TYPE'],
    ['type 200', '01c8000800000002', 'OFPBRC_BAD_TYPE'],
    ['unknown version (not hello/error/echo)', '0705000800000002', 'OFPBRC_BAD_TYPE'],
    ['version 0 hello', '0000000800000002', 'OFPBRC_BAD_TYPE'],
    ['1.0 flow stats request (not implemented)', '0110000c000000020001' + '0000', 'OFPBRC_BAD_STAT'],
    ['1.3 multipart request shorter than its header', '0412000c000000020000' + '0000', 'OFPBRC_BAD_LEN'],
    ['vendor message of an unknown vendor', '0104001000000002' + '12345678' + '00000000', 'OFPBRC_BAD_VENDOR'],
    ['Nicira vendor message', '0104001000000002' + '00002320' + '00000063', 'OFPBRC_BAD_SUBTYPE'],
    ['1.0 vendor stats, unknown vendor', '0110001000000002ffff0000' + '12345678', 'OFPBRC_BAD_VENDOR'],
    ['1.0 port desc request with a body', '0110001000000002000d0000' + '00000000', 'OFPBRC_BAD_LEN'],
    ['1.5 port desc request without its port', '0612001000000002000d000000000000', 'OFPBRC_BAD_LEN'],
    ['1.4 port desc reply, port length too short', '0513003000000002000d000000000000' + '00000001' + '0020' + '0000' + '00'.repeat(24), 'OFPBRC_BAD_LEN'],
    ['error message without type and code', '0101000800000002', 'OFPBRC_BAD_LEN'],
  ])('%s', (_name, h, expected) => {
    expect(err(h)).toBe(expected);
  });

  it('length field disagreeing with the buffer, and fewer than 8 bytes', () => {
    expect(err('0105000900000002')).toBe('OFPBRC_BAD_LEN');
    expect(err('010500')).toBe('OFPBRC_BAD_LEN');
  });

  it('hello, error and echo decode in any version but 0 (OFPT <all>)', () => {
    expect(decodeMessageOrThrow(bytes('0900000800000001')).type).toBe('HELLO');
    expect(decodeMessageOrThrow(bytes('ff02000a000000010102')).type).toBe('ECHO_REQUEST');
  });

  it('a hello with junk after its elements keeps the bitmap and reports the junk (ofputil_decode_hello)', () => {
    const h = decodeMessageOrThrow(bytes('0400001400000001' + '00010008' + '00000012' + '0001000c'));
    expect(h.type).toBe('HELLO');
    if (h.type !== 'HELLO') return;
    expect(h.trailing).toEqual(bytes('0001000c'));
    expect(helloVersions(h)).toEqual({ versions: 0x12, ok: false });
    // Bit 0 (no version 0) is ignored; an empty bitmap leaves the header's versions.
    const z = decodeMessageOrThrow(bytes('0400001000000001' + '00010008' + '00000001'));
    expect(z.type === 'HELLO' && helloVersions(z)).toEqual({ versions: 0x1e, ok: false });
  });
});

describe('encoder limits', () => {
  const port = encodePhyPort(1, { portNo: 1, name: 'p', hwAddr: new Uint8Array(6) });
  it('throws OfpEncodeError for what does not fit', () => {
    expect(() =>
      encodeMessage({
        type: 'FEATURES_REPLY',
        version: 4,
        xid: 1,
        datapathId: 0n,
        nBuffers: 0,
        nTables: 1,
        auxiliaryId: 0,
        capabilities: 0,
        actions: 0,
        ports: [port],
      }),
    ).toThrow(OfpEncodeError);
    expect(() => encodeMessage({ type: 'PORT_DESC_REPLY', version: 1, xid: 1, flags: 0, ports: Array(1366).fill(port) })).toThrow(OfpEncodeError);
    expect(() => encodeMessage({ type: 'FEATURES_REQUEST', version: 7, xid: 1 })).toThrow(OfpEncodeError);
    expect(() => encodeMessage({ type: 'PORT_DESC_REQUEST', version: 6, xid: 1, flags: 0 })).toThrow(OfpEncodeError);
    expect(() => encodePhyPort(1, { portNo: 1, name: 'p', hwAddr: 'zz:00:00:00:00:00' })).toThrow(OfpEncodeError);
  });
});

describe('OfpFramer (vconn_stream_recv)', () => {
  it('splits a stream at any chunking and stops at a too-short length', () => {
    const a = encodeMessage(encodeHelloFor(0x7e, 1));
    const b = encodeMessage({ type: 'ECHO_REQUEST', version: 6, xid: 2, data: new Uint8Array([1, 2, 3]) });
    const stream = new Uint8Array([...a, ...b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new OfpFramer();
      const got = [...f.push(stream.subarray(0, cut)).messages, ...f.push(stream.subarray(cut)).messages];
      expect(got.map(hex)).toEqual([hex(a), hex(b)]);
    }
    expect(new OfpFramer().push(bytes('0100000400000001')).error).toBe('received too-short ofp_header (4 bytes)');
  });
});

// ---------------------------------------------------------------- properties

const u32 = fc.nat(0xffffffff);
const u16 = fc.nat(0xffff);
const nameArb = fc.string({ unit: 'grapheme-ascii', maxLength: 15 });

const phyPortArb = (version: number): fc.Arbitrary<OfpPhyPort> =>
  fc.record({
    portNo: version === 1 ? u16 : u32,
    hwAddr: fc.uint8Array({ minLength: 6, maxLength: 6 }),
    name: nameArb,
    config: u32,
    state: u32,
    curr: u32,
    advertised: u32,
    supported: u32,
    peer: u32,
    currSpeed: version === 1 ? fc.constant(0) : u32,
    maxSpeed: version === 1 ? fc.constant(0) : u32,
  });

const versionArb = fc.integer({ min: 1, max: 6 });

const messageArb: fc.Arbitrary<OfpMessage> = versionArb.chain((version) => {
  const base = { version: fc.constant(version), xid: u32 };
  const ports = fc.array(phyPortArb(version), { maxLength: 6 });
  return fc.oneof(
    fc.record({
      ...base,
      type: fc.constant('HELLO' as const),
      elements: fc.array(fc.record({ type: u16, data: fc.uint8Array({ maxLength: 12 }) }), { maxLength: 3 }),
    }),
    fc.record({
      ...base,
      version: fc.integer({ min: 1, max: 255 }),
      type: fc.constant('ERROR' as const),
      errType: u16,
      code: u16,
      data: fc.uint8Array({ maxLength: 40 }),
    }),
    fc.record({ ...base, type: fc.constantFrom('ECHO_REQUEST' as const, 'ECHO_REPLY' as const), data: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({
      ...base,
      type: fc.constantFrom('FEATURES_REQUEST' as const, 'GET_CONFIG_REQUEST' as const, 'BARRIER_REQUEST' as const, 'BARRIER_REPLY' as const),
    }),
    fc.record({
      ...base,
      type: fc.constant('FEATURES_REPLY' as const),
      datapathId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      nBuffers: u32,
      nTables: fc.nat(0xff),
      auxiliaryId: version >= 4 ? fc.nat(0xff) : fc.constant(0),
      capabilities: u32,
      actions: u32,
      ports: version >= 4 ? fc.constant<OfpPhyPort[]>([]) : ports,
    }),
    fc.record({ ...base, type: fc.constantFrom('GET_CONFIG_REPLY' as const, 'SET_CONFIG' as const), flags: u16, missSendLen: u16 }),
    version >= 6
      ? fc.record({ ...base, type: fc.constant('PORT_DESC_REQUEST' as const), flags: u16, portNo: u32 })
      : fc.record({ ...base, type: fc.constant('PORT_DESC_REQUEST' as const), flags: u16 }),
    fc.record({ ...base, type: fc.constant('PORT_DESC_REPLY' as const), flags: u16, ports }),
  );
});

describe('properties', () => {
  it('typed messages of every version round-trip: decode(encode(m)) = m, and re-encode byte for byte', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const b = encodeMessage(m);
        const r = decodeMessage(b);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.message).toEqual(m);
        expect(hex(encodeMessage(r.message))).toBe(hex(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes never throw; failures are OfpDecodeError; what decodes re-encodes to a fixed point', () => {
    const check = (b: Uint8Array): void => {
      const r = decodeMessage(b);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(OfpDecodeError);
        return;
      }
      const again = encodeMessage(r.message);
      expect(decodeMessageOrThrow(again)).toEqual(r.message);
    };
    // Arbitrary bytes, and bytes with a plausible header (version 1-6, a known type, the right length).
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 3000 });
    fc.assert(
      fc.property(versionArb, fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18, 19, 20, 21), fc.uint8Array({ maxLength: 300 }), (v, t, body) => {
        const b = new Uint8Array(8 + body.length);
        b.set(body, 8);
        b[0] = v;
        b[1] = t;
        b[2] = b.length >> 8;
        b[3] = b.length & 0xff;
        check(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid messages never throw', () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.tuple(fc.nat(), fc.nat(0xff)), { minLength: 1, maxLength: 4 }), fc.nat(), (m, flips, cut) => {
        const b = encodeMessage(m).slice();
        for (const [i, v] of flips) b[i % b.length] = v;
        const r = decodeMessage(b);
        if (!r.ok) expect(r.error).toBeInstanceOf(OfpDecodeError);
        const t = decodeMessage(b.subarray(0, cut % (b.length + 1)));
        if (!t.ok) expect(t.error).toBeInstanceOf(OfpDecodeError);
      }),
      { numRuns: 3000 },
    );
  });

  it('abstract ports survive encode/decode in every version (within what the version carries)', () => {
    const F = 0xffff;
    fc.assert(
      fc.property(
        versionArb,
        u16,
        nameArb,
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.nat(0x7f),
        fc.nat(F),
        (version, portNo, name, hw, config, curr) => {
          // Only what both sides can express: bits common to all versions.
          const c = config & 0x65;
          const features = curr & 0xf87f; // no 40GB/100GB/1TB/OTHER (absent in 1.0)
          const back = decodePhyPort(version, encodePhyPort(version, { portNo, name, hwAddr: hw, config: c, state: 1, curr: features, supported: features }));
          expect(back).toMatchObject({ portNo, name, config: c, state: 1, curr: features, supported: features });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
