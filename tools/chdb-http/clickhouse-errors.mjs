/**
 * Errors as a ClickHouse server answers them over HTTP: the text
 * `Code: N. DB::Exception: … (NAME) (version …)`, the exception code in the
 * X-ClickHouse-Exception-Code header, and an HTTP status chosen from the code
 * the way the server's HTTP handler does.
 */

/** Exception names by the status a ClickHouse server gives them (its HTTP handler's table). */
const STATUS_OF_NAMES = [
  [403, ['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE']],
  [401, ['REQUIRED_PASSWORD']],
  [
    400,
    [
      'BAD_ARGUMENTS',
      'CANNOT_COMPILE_REGEXP',
      'DUPLICATE_COLUMN',
      'ILLEGAL_COLUMN',
      'UNKNOWN_ELEMENT_IN_AST',
      'UNKNOWN_TYPE_OF_AST_NODE',
      'THERE_IS_NO_COLUMN',
      'TOO_DEEP_AST',
      'TOO_BIG_AST',
      'UNEXPECTED_AST_STRUCTURE',
      'SYNTAX_ERROR',
      'INCORRECT_DATA',
      'TYPE_MISMATCH',
      'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
    ],
  ],
  [
    404,
    [
      'UNKNOWN_TABLE',
      'UNKNOWN_FUNCTION',
      'UNKNOWN_IDENTIFIER',
      'UNKNOWN_TYPE',
      'UNKNOWN_STORAGE',
      'UNKNOWN_DATABASE',
      'UNKNOWN_SETTING',
      'UNKNOWN_DIRECTION_OF_SORTING',
      'UNKNOWN_AGGREGATE_FUNCTION',
      'UNKNOWN_FORMAT',
      'UNKNOWN_DATABASE_ENGINE',
      'UNKNOWN_TYPE_OF_QUERY',
      'UNKNOWN_ROLE',
    ],
  ],
  [413, ['QUERY_IS_TOO_LARGE']],
  [501, ['NOT_IMPLEMENTED']],
  [503, ['SOCKET_TIMEOUT', 'CANNOT_OPEN_FILE', 'CANNOT_SCHEDULE_TASK']],
  [411, ['HTTP_LENGTH_REQUIRED']],
  [408, ['TIMEOUT_EXCEEDED']],
];
const STATUS = new Map(STATUS_OF_NAMES.flatMap(([status, names]) => names.map((n) => [n, status])));

export class EngineError extends Error {
  /**
   * @param {number} code ClickHouse exception code
   * @param {string} name its name (SYNTAX_ERROR …)
   * @param {string} message the exception text without the `Code: N. DB::Exception:` prefix
   */
  constructor(code, name, message) {
    super(message);
    this.code = code;
    this.codeName = name;
  }

  /** The engine's own error (its message already says `Code: N. DB::Exception: …`), or any other failure. */
  static from(err, version) {
    if (err instanceof EngineError) return err;
    const text = err instanceof Error ? err.message : String(err);
    const m = /^Code: (\d+)\. DB::Exception: ([\s\S]*?)\s*$/.exec(text);
    const name = m ? (/\(([A-Z0-9_]+)\)(?: \(version [^)]*\))?\s*$/.exec(text)?.[1] ?? '') : '';
    const e = m ? new EngineError(Number(m[1]), name, m[2]) : new EngineError(1001, 'STD_EXCEPTION', text);
    e.full = m ? text.trim() : undefined;
    e.version = version;
    return e;
  }

  get httpStatus() {
    if (this.codeName.startsWith('CANNOT_PARSE_')) return 400;
    return STATUS.get(this.codeName) ?? 500;
  }

  /** The response body, as the server writes it. */
  body(version = this.version) {
    const base = this.full ?? `Code: ${this.code}. DB::Exception: ${this.message}. (${this.codeName})`;
    return `${/\(version [^)]*\)$/.test(base) || !version ? base : `${base} (version ${version})`}\n`;
  }
}
