/** Positional parameters ($1 …) become typed ClickHouse parameters ({p1:Type}), values never inlined. */
import { describe, expect, it } from 'vitest';
import { bindPositional } from '../src/store/clickhouse/params.js';

describe('ClickHouse parameter binding', () => {
  it('names each placeholder with the type of its value, $10 not read as $1', () => {
    const values = ['DE', 3, 2.5, true, null, 'a', 'b', 'c', 'd', "x'); DROP TABLE views; --"];
    const r = bindPositional('SELECT $1, $2, $3, $4, $5::DOUBLE, $10, $1', values);
    expect(r.sql).toBe(
      'SELECT {p1:String}, {p2:Int64}, {p3:Float64}, {p4:Bool}, {p5:Nullable(String)}::DOUBLE, {p10:String}, {p1:String}',
    );
    expect(r.params).toEqual({
      p1: 'DE',
      p2: 3,
      p3: 2.5,
      p4: true,
      p5: null,
      p10: "x'); DROP TABLE views; --",
    });
  });

  it('refuses a placeholder without a value', () => {
    expect(() => bindPositional('SELECT $2', ['only one'])).toThrow('SQL parameter $2 has no value');
  });
});
