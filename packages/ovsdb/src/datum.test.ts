import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Datum, applyDiff, datumDiff, datumFromJson, datumSubtract, datumToJson, datumToString, datumUnion } from './datum.js';
import type { OvsdbError } from './errors.js';
import { type ColumnType, columnTypeFromJson, typeToEnglish } from './schema.js';

const T = (j: unknown): ColumnType => columnTypeFromJson(j);
const strSet = T({ key: 'string', min: 0, max: 'unlimited' });
const strMap = T({ key: 'string', value: 'string', min: 0, max: 'unlimited' });
const optInt = T({ key: { type: 'integer', minInteger: 1, maxInteger: 65279 }, min: 0, max: 1 });

describe('datum JSON (RFC 7047 §5.1)', () => {
  it('reads atoms, sets and maps, and writes them back the way ovsdb-server does', () => {
    expect(datumFromJson(strSet, ['set', ['b', 'a']])).toEqual({ keys: ['a', 'b'] });
    expect(datumFromJson(strSet, 'a')).toEqual({ keys: ['a'] });
    expect(datumToJson({ keys: ['a'] }, strSet)).toBe('a'); // one element: bare
    expect(datumToJson({ keys: [] }, strSet)).toEqual(['set', []]);
    expect(datumToJson({ keys: ['k'], values: ['v'] }, strMap)).toEqual(['map', [['k', 'v']]]);
    const uuidT = T({ key: { type: 'uuid', refTable: 'X' }, min: 0, max: 'unlimited' });
    expect(datumToJson({ keys: ['00000000-0000-0000-0000-000000000001'] }, uuidT)).toEqual(['uuid', '00000000-0000-0000-0000-000000000001']);
  });

  it('rejects what ovsdb-server rejects, with its messages', () => {
    const err = (t: ColumnType, j: unknown) => {
      try {
        datumFromJson(t, j);
      } catch (e) {
        return (e as OvsdbError).toJson();
      }
      return null;
    };
    expect(err(optInt, 0)).toEqual({ error: 'constraint violation', details: '0 is not in the valid range 1 to 65279 (inclusive)' });
    expect(err(optInt, ['set', [1, 2]])).toMatchObject({ error: 'syntax error', details: 'set must have 0 to 1 members but 2 are present' });
    expect(err(strSet, ['set', ['a', 'a']])).toEqual({ error: 'ovsdb error', details: 'set contains duplicate' });
    expect(err(strMap, ['set', []])).toMatchObject({ details: 'expected ["map", <array>]' });
    expect(err(T({ key: { type: 'string', enum: ['set', ['up', 'down']] }, min: 0, max: 1 }), 'sideways')).toEqual({
      error: 'constraint violation',
      details: 'sideways is not one of the allowed values ([down, up])',
    });
    expect(err(T('uuid'), ['named-uuid', 'x'])).toMatchObject({ details: 'expected ["uuid", <string>]' });
  });

  it("describes types and values in ovsdb-server's words", () => {
    expect(typeToEnglish(strSet)).toBe('set of strings');
    expect(typeToEnglish(optInt)).toBe('set of up to 1 integers');
    expect(typeToEnglish(T({ key: 'uuid', min: 1, max: 'unlimited' }))).toBe('set of 1 or more uuids');
    expect(typeToEnglish(strMap)).toBe('map of (string, string) pairs');
    expect(datumToString({ keys: ['a', 'b c'], values: ['1', ''] }, strMap)).toBe('{a="1", "b c"=""}');
  });

  it('mutator insert keeps existing map values; delete by pairs or by keys', () => {
    const m: Datum = { keys: ['a', 'b'], values: ['1', '2'] };
    expect(datumUnion(m, { keys: ['a', 'c'], values: ['X', '3'] }, strMap)).toEqual({ keys: ['a', 'b', 'c'], values: ['1', '2', '3'] });
    expect(datumSubtract(m, { keys: ['a', 'b'], values: ['1', 'X'] }, strMap)).toEqual({ keys: ['b'], values: ['2'] });
    expect(datumSubtract(m, { keys: ['a'] }, strMap)).toEqual({ keys: ['b'], values: ['2'] });
  });

  it('diff then apply gives the new value back (sets and maps, property)', () => {
    const set = fc.uniqueArray(fc.string({ maxLength: 3 }), { maxLength: 8 }).map((a) => ({ keys: [...a].sort() }) as Datum);
    const map = fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 2 }), { maxKeys: 8 }).map((o) => {
      const keys = Object.keys(o).sort();
      return { keys, values: keys.map((k) => o[k]!) } as Datum;
    });
    fc.assert(
      fc.property(set, set, (a, b) => {
        expect(applyDiff(a, datumDiff(a, b, strSet), strSet)).toEqual(b);
      }),
    );
    fc.assert(
      fc.property(map, map, (a, b) => {
        expect(applyDiff(a, datumDiff(a, b, strMap), strMap)).toEqual(b);
      }),
    );
    // A column of at most one element: the diff is the new value (ovsdb_type_is_composite is false).
    expect(datumDiff({ keys: [5] }, { keys: [] }, optInt)).toEqual({ keys: [] });
  });
});
