/** Fixed-size C structs (struct ovs_dp_stats, struct ifinfomsg, ...) as value codecs. */
import { type ValueCodec, bigFromJson, bigToJson, checkInt, intFromJson } from './codecs.js';
import type { JsonValue } from './attr-json.js';
import { NetlinkDecodeError, NetlinkEncodeError } from './errors.js';
import { fromHex, hex } from './hex.js';
import type { Policy } from './nlattr.js';
import type { Writer } from './writer.js';

/** Fields of a fixed C struct: all little-endian (host order) u8..u64 or be16/be32 or byte arrays. */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'be16' | 'be32' | `bytes${number}`;
type FieldValue<F extends FieldType> = F extends 'u64' ? bigint : F extends `bytes${number}` ? Uint8Array : number;
export type StructValue<F extends Record<string, FieldType>> = { [K in keyof F]: FieldValue<F[K]> };

function fieldSize(t: FieldType): number {
  switch (t) {
    case 'u8':
      return 1;
    case 'u16':
    case 'be16':
      return 2;
    case 'u32':
    case 's32':
    case 'be32':
      return 4;
    case 'u64':
      return 8;
    default:
      return Number(t.slice(5));
  }
}

/** A fixed-size C struct such as struct ovs_dp_stats or struct ifinfomsg. */
export class StructCodec<F extends Record<string, FieldType>> implements ValueCodec<StructValue<F>> {
  readonly kind: string;
  readonly policy: Policy;
  readonly size: number;
  readonly fields: ReadonlyArray<{ readonly key: string; readonly type: FieldType; readonly off: number }>;
  constructor(
    readonly cName: string,
    fields: F,
  ) {
    this.kind = cName;
    let off = 0;
    const list: Array<{ key: string; type: FieldType; off: number }> = [];
    for (const [key, type] of Object.entries(fields)) {
      list.push({ key, type, off });
      off += fieldSize(type);
    }
    this.fields = list;
    this.size = off;
    this.policy = { type: 'UNSPEC', len: off };
  }
  decode(buf: Uint8Array, dv: DataView, off: number, len: number): StructValue<F> {
    if (len !== this.size) throw new NetlinkDecodeError(off - 4, `struct ${this.cName} must be ${this.size} bytes, got ${len}`);
    return this.read(buf, dv, off);
  }
  /** Read the struct at `off` (the caller checked the length). */
  read(buf: Uint8Array, dv: DataView, off: number): StructValue<F> {
    return (this.compiledRead ??= this.compileRead())(buf, dv, off);
  }
  write(w: Writer, value: StructValue<F>, path: string): void {
    (this.compiledWrite ??= this.compileWrite())(w, value, path);
  }

  // Like attribute sets, structs compile to straight-line code with constant keys.
  private compiledRead: ((buf: Uint8Array, dv: DataView, off: number) => StructValue<F>) | undefined;
  private compiledWrite: ((w: Writer, value: StructValue<F>, path: string) => void) | undefined;

  private compileRead(): (buf: Uint8Array, dv: DataView, off: number) => StructValue<F> {
    const fields = this.fields.map((f) => {
      const o = `off + ${f.off}`;
      const get: Record<string, string> = {
        u8: `dv.getUint8(${o})`,
        u16: `dv.getUint16(${o}, true)`,
        be16: `dv.getUint16(${o}, false)`,
        u32: `dv.getUint32(${o}, true)`,
        s32: `dv.getInt32(${o}, true)`,
        be32: `dv.getUint32(${o}, false)`,
        u64: `dv.getBigUint64(${o}, true)`,
      };
      return `${JSON.stringify(f.key)}: ${get[f.type] ?? `buf.slice(${o}, ${o} + ${fieldSize(f.type)})`}`;
    });
    return new Function(`return function read(buf, dv, off) { return { ${fields.join(', ')} }; };`)() as never;
  }

  private compileWrite(): (w: Writer, value: StructValue<F>, path: string) => void {
    const ranges: Record<string, [number, number, string, boolean]> = {
      u8: [0, 0xff, 'Uint8', true],
      u16: [0, 0xffff, 'Uint16', true],
      be16: [0, 0xffff, 'Uint16', false],
      u32: [0, 0xffffffff, 'Uint32', true],
      s32: [-0x80000000, 0x7fffffff, 'Int32', true],
      be32: [0, 0xffffffff, 'Uint32', false],
    };
    const lines = this.fields.map((f) => {
      const key = JSON.stringify(f.key);
      const o = `b + ${f.off}`;
      const r = ranges[f.type];
      if (r) {
        const [min, max, method, le] = r;
        return `x = v[${key}];
      if (typeof x !== 'number' || !(x >= ${min} && x <= ${max}) || Math.floor(x) !== x) badInt(path + '.' + ${key}, x, ${min}, ${max});
      w.dv.set${method}(${o}, x${method === 'Uint8' ? '' : `, ${le}`});`;
      }
      if (f.type === 'u64') {
        return `x = v[${key}];
      if (typeof x !== 'bigint' || x < 0n || x > 0xffffffffffffffffn) bad(path + '.' + ${key}, 'expected a bigint in [0, 2^64)');
      w.dv.setBigUint64(${o}, x, true);`;
      }
      const n = fieldSize(f.type);
      return `x = v[${key}];
      if (!(x instanceof Uint8Array) || x.length !== ${n}) bad(path + '.' + ${key}, 'expected ${n} bytes');
      w.buf.set(x, ${o});`;
    });
    const body = `return function write(w, v, path) {
      if (v === null || typeof v !== 'object') bad(path, ${JSON.stringify(`expected struct ${this.cName}`)});
      w.ensure(${this.size});
      const b = w.pos;
      let x;
      ${lines.join('\n      ')}
      w.pos = b + ${this.size};
    };`;
    const bad = (path: string, reason: string) => {
      throw new NetlinkEncodeError(path, reason);
    };
    const badInt = (path: string, x: unknown, min: number, max: number) => checkInt(x, path, min, max);
    return new Function('bad', 'badInt', body)(bad, badInt) as never;
  }
  toJson(value: StructValue<F>): JsonValue {
    const out: Record<string, JsonValue> = {};
    const v = value as Record<string, unknown>;
    for (const f of this.fields) {
      const x = v[f.key];
      out[f.key] = typeof x === 'bigint' ? bigToJson(x) : x instanceof Uint8Array ? hex(x) : (x as number);
    }
    return out;
  }
  fromJson(json: unknown, path: string): StructValue<F> {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new NetlinkEncodeError(path, `expected struct ${this.cName}`);
    const j = json as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const f of this.fields) {
      const p = `${path}.${f.key}`;
      const x = j[f.key] ?? 0;
      if (f.type === 'u64') out[f.key] = bigFromJson(x, p, false);
      else if (f.type.startsWith('bytes')) {
        if (typeof x !== 'string') throw new NetlinkEncodeError(p, 'expected a hex string');
        out[f.key] = fromHex(x, p);
      } else {
        const size = fieldSize(f.type);
        const signed = f.type === 's32';
        out[f.key] = intFromJson(x, p, signed ? -(2 ** 31) : 0, signed ? 2 ** 31 - 1 : 2 ** (size * 8) - 1);
      }
    }
    return out as StructValue<F>;
  }
  format(value: StructValue<F>): string {
    const v = value as Record<string, unknown>;
    return `{${this.fields
      .map((f) => {
        const x = v[f.key];
        return `${f.key}=${x instanceof Uint8Array ? hex(x) : String(x)}`;
      })
      .join(' ')}}`;
  }
}

export function struct<F extends Record<string, FieldType>>(cName: string, fields: F): StructCodec<F> {
  return new StructCodec(cName, fields);
}
