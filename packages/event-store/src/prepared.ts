import type { Queryable } from '@switchyard/outbox'

/**
 * Runs a statement, as a named (prepared) statement when `name` is given: each connection then
 * parses and plans it once, later calls send only the parameters. Only for `pg` clients and
 * pools (the `pgDriver`, or a client of its `transaction`): they take a query config object in
 * place of the text, which the driver passes on as it is. PGlite and callers' own `tx` get
 * the text.
 */
export function queryPrepared(
  db: Queryable,
  name: string | undefined,
  text: string,
  values: unknown[],
): Promise<{ rows: unknown[] }> {
  if (name === undefined) return db.query(text, values)
  return db.query({ name, text, values } as unknown as string)
}
