import type { Projection, Queryable } from '@switchyard/event-store'

/** The read table `leave_requests`: one row per leave request, kept by an inline projection. */
export const leaveTable: Projection & { create(db: Queryable): Promise<void> } = {
  name: 'leave_requests',
  types: ['leave.*'],
  async create(db) {
    await db.query(`CREATE TABLE IF NOT EXISTS leave_requests (
      leave_id text PRIMARY KEY, employee_id text NOT NULL, leave_type text, status text NOT NULL,
      approved_by text, position bigint NOT NULL)`)
  },
  async handle(events, { tx }) {
    for (const { event, position } of events) {
      const data = event.data as Record<string, string>
      if (event.type === 'leave.created') {
        await tx.query(
          `INSERT INTO leave_requests (leave_id, employee_id, leave_type, status, position)
           VALUES ($1, $2, $3, 'requested', $4)`,
          [data.leave_id, data.employee_id, data.leave_type, position],
        )
      } else if (event.type === 'leave.approved') {
        await tx.query(
          `UPDATE leave_requests SET status = 'approved', approved_by = $2, position = $3 WHERE leave_id = $1`,
          [data.leave_id, data.approved_by, position],
        )
      }
    }
  },
  async reset({ tx }) {
    await tx.query('DELETE FROM leave_requests')
  },
}
