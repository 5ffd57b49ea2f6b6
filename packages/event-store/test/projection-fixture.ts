import type { Projection, Queryable, RecordedEvent } from '../src/index.js'

/** Head count and leave days per department, kept in `table`. */
export function departmentsProjection(
  table: string,
  name = table,
): Projection & { create(db: Queryable): Promise<void> } {
  return {
    name,
    types: ['employee.*'],
    async create(db) {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${table} (department text PRIMARY KEY, staff int NOT NULL, leave_days int NOT NULL, last_position bigint NOT NULL)`,
      )
    },
    async handle(events: RecordedEvent[], { tx }) {
      for (const { event, position } of events) {
        const data = event.data as { department: string; days?: number }
        const staff = event.type === 'employee.hired' ? 1 : event.type === 'employee.left' ? -1 : 0
        const days = event.type === 'employee.leave.approved' ? (data.days ?? 0) : 0
        await tx.query(
          `INSERT INTO ${table} AS t (department, staff, leave_days, last_position) VALUES ($1, $2, $3, $4)
           ON CONFLICT (department) DO UPDATE SET staff = t.staff + $2, leave_days = t.leave_days + $3, last_position = $4`,
          [data.department, staff, days, position],
        )
      }
    },
    async reset({ tx }) {
      await tx.query(`DELETE FROM ${table}`)
    },
  }
}

/** The read table's rows, ordered. */
export async function rowsOf(db: Queryable, table: string): Promise<unknown[]> {
  const { rows } = await db.query(
    `SELECT department, staff, leave_days, last_position::text AS last_position FROM ${table} ORDER BY department`,
  )
  return rows
}

/** A day of an HR department: hires, approved leave, departures. */
export function hrEvents(i: number) {
  const department = ['eng', 'ops', 'sales'][i % 3]!
  const type =
    i % 5 === 4 ? 'employee.left' : i % 2 === 0 ? 'employee.hired' : 'employee.leave.approved'
  return { type, data: { department, days: (i % 4) + 1 } }
}
