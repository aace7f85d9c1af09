/**
 * An RFC 4180 reader for tests of CSV answers, written apart from the
 * server's writer (http/csv-answers.ts) so that a test does not check the
 * writer against itself: records of cells, and records as objects keyed by
 * the header row.
 */
import { expect } from 'vitest';

/** An RFC 4180 reader, written apart from the server's writer: records of cells. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i++;
    } else cell += c;
  }
  expect(cell).toBe('');
  expect(record).toEqual([]);
  return records;
}

/** The CSV records as objects keyed by the header row. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  expect(header).toBeDefined();
  for (const r of rows) expect(r.length).toBe(header!.length);
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
}
