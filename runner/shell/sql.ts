/**
 * SQL that destroys data: DROP of an object or TRUNCATE. Comments separate tokens in SQL
 * (`drop/**\/table`, `drop-- x⏎table`, MySQL's `#`), so the text is matched as written and with
 * comments replaced by spaces. Matching both errs towards flagging: a `--` inside a string
 * literal cannot hide a DROP that follows it.
 */
const SQL_OBJECTS =
  'DATABASE|TABLE|SCHEMA|ROLE|USER|OWNED|INDEX|VIEW|MATERIALIZED|EXTENSION|TABLESPACE|SEQUENCE|' +
  'FUNCTION|TYPE|TEMPORARY|TRIGGER|PROCEDURE|EVENT|FOREIGN|DOMAIN|POLICY|PUBLICATION|SUBSCRIPTION|SERVER';
export const SQL_DESTRUCTIVE = new RegExp(`\\b(?:DROP\\s+(?:${SQL_OBJECTS})|TRUNCATE)\\b`, 'i');

/** SQL with its comments (block, `--` and `#` to the end of the line) replaced by a space. */
export function withoutComments(sql: string): string {
  return sql.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' ').replace(/(?:--|#)[^\n]*/g, ' ');
}

export function destroysData(sql: string): boolean {
  return SQL_DESTRUCTIVE.test(sql) || SQL_DESTRUCTIVE.test(withoutComments(sql));
}

/** The verbs that start a statement which changes data or schema. */
const SQL_WRITE_VERBS = [
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'UPSERT',
  'REPLACE',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'GRANT',
  'REVOKE',
  'VACUUM',
  'REINDEX',
  'CLUSTER',
  'COMMENT',
  'CALL',
  'DO',
  'RENAME',
  'REFRESH',
  'IMPORT',
  'LOAD',
  'RESTORE',
  'COPY\\s+[\\w."]+(?:\\s*\\([^)]*\\))?\\s+FROM',
].join('|');
/** A statement's start: EXPLAIN ANALYZE and a WITH clause run the statement they precede. */
const SQL_PREFIX = '(?:EXPLAIN\\s+(?:\\([^)]*\\)\\s*)?ANALY[SZ]E\\s+)?(?:WITH\\b[\\s\\S]*\\)\\s*)?';
const SQL_STATEMENT_WRITES = new RegExp(`^${SQL_PREFIX}(?:${SQL_WRITE_VERBS})(?![\\w.])`, 'i');

/**
 * Whether SQL (or a client's meta-commands) changes data or schema: a statement starting with a
 * writing verb, a data-changing CTE, COPY … FROM, INTO OUTFILE, psql's \copy … from, sqlite's
 * .import/.restore. Strings are blanked and comments removed in both orders (as sql.ts does for
 * DROP: a quote in a comment, or `--` in a string, must not hide a write), so `alter/**\/table`
 * counts and `SELECT 'x; delete'` does not.
 */
export function sqlWrites(sql: string): boolean {
  return statementsWrite(withoutComments(blankStrings(sql))) || statementsWrite(blankStrings(withoutComments(sql)));
}

const blankStrings = (sql: string) => sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, "''");

function statementsWrite(code: string): boolean {
  if (/\(\s*(?:INSERT|UPDATE|DELETE|MERGE)\s/i.test(code) || /\bINTO\s+(?:OUTFILE|DUMPFILE)\b/i.test(code)) return true;
  if (/^\s*(?:\\copy\b[^\n]*\bfrom\b|\.(?:import|restore|save|backup|output|once)\b)/im.test(code)) return true;
  // A meta-command line (psql's \c, sqlite's .tables) ends a statement as `;` does.
  const statements = code.replace(/^\s*[\\.][^\n]*$/gm, ';').split(';');
  return statements.some((statement) => SQL_STATEMENT_WRITES.test(statement.trim()));
}
