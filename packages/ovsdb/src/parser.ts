import { type OvsdbError, syntaxError } from './errors.js';
import { type Json, type JsonObject, isId, isObject } from './json.js';

type MemberType = 'id' | 'string' | 'object' | 'array' | 'boolean' | 'integer';

/** ovsdb_parser: typed member access, then "present but not allowed" for the rest. */
export class OpParser {
  readonly used = new Set<string>();
  error: OvsdbError | null = null;
  readonly obj: JsonObject | null;

  constructor(
    json: unknown,
    readonly name: string,
  ) {
    this.obj = isObject(json) ? json : null;
    if (!this.obj) this.raise('Object expected.');
  }

  raise(msg: string): void {
    if (!this.error) this.error = syntaxError(this.obj ?? undefined, null, `Parsing ${this.name} failed: ${msg}`);
  }

  member(name: string, types: MemberType[], optional = false): Json | undefined {
    if (!this.obj) return undefined;
    const v = this.obj[name];
    if (v === undefined) {
      if (!optional) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    const ok = types.some((t) => {
      switch (t) {
        case 'id':
          return isId(v);
        case 'string':
          return typeof v === 'string';
        case 'object':
          return isObject(v);
        case 'array':
          return Array.isArray(v);
        case 'boolean':
          return typeof v === 'boolean';
        case 'integer':
          return typeof v === 'number' && Number.isInteger(v);
      }
    });
    if (!ok) {
      this.raise(`Type mismatch for member '${name}'.`);
      return undefined;
    }
    this.used.add(name);
    return v;
  }

  finish(): OvsdbError | null {
    if (!this.error && this.obj) {
      const unused = Object.keys(this.obj).filter((k) => !this.used.has(k));
      if (unused.length > 1) {
        this.raise(`Member '${unused[0]}' and ${unused.length - 1} other member${unused.length > 2 ? 's' : ''} are present but not allowed here.`);
      } else if (unused.length === 1) {
        this.raise(`Member '${unused[0]}' is present but not allowed here.`);
      }
    }
    return this.error;
  }
}
