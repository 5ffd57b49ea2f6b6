import type { EventInput } from '@switchyard/core'
import { DAY, HOUR, MINUTE, topics } from './pipelines.js'

/** Monday 2 March 2026, 00:00 UTC: the sample's clock starts here. */
export const DAY0 = Date.UTC(2026, 2, 2)

const at = (ms: number) => new Date(DAY0 + ms).toISOString()
let seq = 0
const event = (
  type: string,
  ms: number,
  data: object,
  extra: Partial<EventInput> = {},
): EventInput => ({
  id: `sample-${++seq}`,
  type,
  time: at(ms),
  data,
  ...extra,
})

const leave = (department: string, h: number, m: number) =>
  event(
    'leave.requested',
    h * HOUR + m * MINUTE,
    { employee_id: `emp-${seq}`, department },
    {
      partitionkey: department,
    },
  )

/**
 * The sample, in publish order: days of HR history on a compressed clock (published in
 * milliseconds, timed by the events' own `time`), out of order where noted.
 */
export function sampleEvents(): [string, EventInput][] {
  seq = 0
  const hr = (type: string, employee: string, ms: number) =>
    [
      topics.hr,
      event(type, ms, { employee_id: employee }, { tenantid: 'olive', partitionkey: 'olive' }),
    ] as [string, EventInput]
  const run = (topic: string, id: string, ms: number) =>
    [
      topic,
      event(
        topic.endsWith('started') ? 'execution.started' : 'execution.completed',
        ms,
        { execution_id: id },
        { partitionkey: id },
      ),
    ] as [string, EventInput]
  return [
    [topics.leave, leave('eng', 9, 5)],
    [topics.leave, leave('eng', 9, 20)],
    [topics.leave, leave('sales', 9, 30)],
    [topics.leave, leave('eng', 9, 55)],
    [topics.leave, leave('eng', 10, 2)],
    [topics.leave, leave('eng', 9, 58)], // out of order, inside the 5-minute grace
    [topics.leave, leave('eng', 10, 10)],
    [topics.leave, leave('eng', 9, 40)], // too late: 09:00-10:00 closed at 10:05
    [topics.leave, leave('sales', 10, 45)],
    [topics.leave, leave('eng', 12, 30)],
    [topics.leave, leave('sales', 12, 30)],
    hr('employee.created', 'e1', 9 * HOUR),
    hr('employee.created', 'e2', 10 * HOUR),
    hr('employee.created', 'e3', 11 * HOUR),
    hr('asset.assigned', 'e1', DAY + 9 * HOUR),
    hr('asset.assigned', 'e3', 3 * DAY + 12 * HOUR), // after its two days
    hr('employee.updated', 'e1', 5 * DAY),
    run(topics.started, 'x1', 10 * HOUR),
    run(topics.started, 'x2', 10 * HOUR + MINUTE),
    run(topics.started, 'x3', 10 * HOUR + 2 * MINUTE),
    run(topics.completed, 'x1', 10 * HOUR + 42_000),
    run(topics.completed, 'x2', 10 * HOUR + 5 * MINUTE),
  ]
}
