import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventEnvelope, type EventInput } from '@switchyard/core'
import { createEventStore, type EventStore, type OutboxDriver } from '@switchyard/event-store'
import { createRelay } from '@switchyard/outbox'
import { decide, type Employee, evolve, initialEmployee } from './employee.js'
import { leaveTable } from './leave-table.js'

/** What a run of the example shows. */
export interface ExampleResult {
  /** Ada rebuilt from her stream. */
  employee: Employee
  /** Her stream's version. */
  version: number
  /** The read table after the run. */
  leaveRequests: unknown[]
  /** The read table rebuilt from position 1 (equal to the above). */
  rebuilt: unknown[]
  /** Event types the notification service received through the outbox and the bus. */
  notified: string[]
}

/** Loads an employee, runs a decider on the state, appends with the version it read. */
async function handle(store: EventStore, id: string, command: (state: Employee) => EventInput[]) {
  const { state, version } = await store.aggregateStream(`employee-${id}`, {
    evolve,
    initialState: initialEmployee,
    snapshot: { name: 'employee-v1', every: 50 },
  })
  return store.append(`employee-${id}`, command(state), { expectedVersion: version })
}

/**
 * The example on a database: hire Ada, she asks for leave twice, one is approved; the leave
 * table follows inline; a relay publishes every event to `employees.events`, where a
 * notification service subscribes.
 */
export async function runExample(
  driver: OutboxDriver,
  log = (line: string) => console.log(line),
): Promise<ExampleResult> {
  const store = createEventStore({
    driver,
    source: 'hr-service',
    outbox: { topic: 'employees.events' },
    projections: [leaveTable],
  })
  await store.migrate()
  await leaveTable.create(driver)
  const bus = createEventBus({
    transport: memoryTransport({ broker: createMemoryBroker() }),
    source: 'hr-service',
  })
  const notified: string[] = []
  let total = 0
  let done: () => void = () => {}
  const allDelivered = new Promise<void>((resolve) => {
    done = resolve
  })
  await bus.subscribe(
    'employees.events',
    (event: EventEnvelope) => {
      notified.push(event.type)
      log(`notification service: ${event.type} for ${event.subject}`)
      if (notified.length === total) done()
    },
    { group: 'notifications' },
  )
  const relay = createRelay({ driver, bus, pollIntervalMs: 100 })
  await relay.start()
  try {
    const id = `ada-${Date.now()}`
    const steps = [
      await handle(store, id, (s) =>
        decide.hire(s, { id, email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace' }),
      ),
      await handle(store, id, (s) =>
        decide.requestLeave(s, {
          id: `${id}-l1`,
          type: 'vacation',
          start: '2030-07-01',
          end: '2030-07-14',
        }),
      ),
      await handle(store, id, (s) =>
        decide.requestLeave(s, {
          id: `${id}-l2`,
          type: 'sick',
          start: '2030-03-02',
          end: '2030-03-03',
        }),
      ),
      await handle(store, id, (s) => decide.approveLeave(s, `${id}-l1`, 'grace')),
    ]
    total = steps.reduce((n, s) => n + s.events.length, 0)
    if (notified.length === total) done()
    const { state, version } = await store.aggregateStream(`employee-${id}`, {
      evolve,
      initialState: initialEmployee,
    })
    log(`employee ${state.id}: version ${version}, leaves ${JSON.stringify(state.leaves)}`)
    const table = `SELECT leave_id, status, approved_by FROM leave_requests WHERE employee_id = $1 ORDER BY leave_id`
    const leaveRequests = (await driver.query(table, [id])).rows
    log(`read table: ${JSON.stringify(leaveRequests)}`)
    await store.rebuildProjection(leaveTable)
    const rebuilt = (await driver.query(table, [id])).rows
    await allDelivered
    return { employee: state, version, leaveRequests, rebuilt, notified }
  } finally {
    await relay.stop()
    await bus.close()
    await store.close()
  }
}
