import { type JsonObject, sortedJson } from './json.js';

/**
 * An RFC 7047 <error>: a tag ("constraint violation", "referential integrity
 * violation", "syntax error", ...) and details. Like ovsdb-server, a syntax
 * error carries the offending JSON text in "syntax".
 */
export class OvsdbError extends Error {
  constructor(
    readonly tag: string,
    readonly details?: string,
    readonly syntax?: string,
  ) {
    super(details ? `${tag}: ${details}` : tag);
    this.name = 'OvsdbError';
  }

  toJson(): JsonObject {
    const j: JsonObject = { error: this.tag };
    if (this.details !== undefined) j.details = this.details;
    if (this.syntax !== undefined) j.syntax = this.syntax;
    return j;
  }

  static fromJson(j: unknown): OvsdbError {
    if (typeof j === 'string') return new OvsdbError(j);
    const o = (j ?? {}) as Record<string, unknown>;
    return new OvsdbError(
      typeof o.error === 'string' ? o.error : 'unknown error',
      typeof o.details === 'string' ? o.details : undefined,
      typeof o.syntax === 'string' ? o.syntax : undefined,
    );
  }
}

/** ovsdb_syntax_error(): tag defaults to "syntax error"; `json` is quoted. */
export function syntaxError(json: unknown, tag: string | null, details: string): OvsdbError {
  return new OvsdbError(tag ?? 'syntax error', details, json === undefined ? undefined : sortedJson(json));
}

export function constraintViolation(details: string): OvsdbError {
  return new OvsdbError('constraint violation', details);
}
