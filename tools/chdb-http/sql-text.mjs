/**
 * What the front must know about a statement's text without parsing SQL:
 * its first keyword, its output FORMAT clause, and whether it holds more than
 * one statement (a ClickHouse server refuses multi-statements over HTTP,
 * while the embedded engine would run them all).
 */

/** The text after leading blanks and comments. */
function skipBlanks(sql, i) {
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i])) i++;
    if (sql.startsWith('--', i) || sql[i] === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else return i;
  }
}

/** The statement's first keyword, upper-cased ('' when there is none). */
export function firstKeyword(sql) {
  const i = skipBlanks(sql, 0);
  return /^[A-Za-z_]+/.exec(sql.slice(i))?.[0].toUpperCase() ?? '';
}

/** The output format a trailing `FORMAT X` names (what @clickhouse/client appends), if any. */
export function formatClause(sql) {
  return /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql)?.[1];
}

/**
 * The offset of a second statement after a `;`, or -1. Quoted strings and
 * identifiers and comments are skipped; an INSERT's inline data after
 * `FORMAT name` is not SQL, so the scan stops there.
 */
export function secondStatementAt(sql) {
  const isInsert = firstKeyword(sql) === 'INSERT';
  let i = skipBlanks(sql, 0);
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      i++;
    } else if (sql.startsWith('--', i) || sql.startsWith('/*', i) || c === '#') {
      i = skipBlanks(sql, i);
    } else if (c === ';') {
      let j = i + 1;
      for (;;) {
        j = skipBlanks(sql, j);
        if (sql[j] !== ';') break;
        j++;
      }
      return j < sql.length ? j : -1;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z0-9_]+/.exec(sql.slice(i, i + 64))[0];
      if (isInsert && word.toUpperCase() === 'FORMAT') return -1;
      i += word.length;
    } else i++;
  }
  return -1;
}
