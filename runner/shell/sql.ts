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
