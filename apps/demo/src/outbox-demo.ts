import { PGlite } from '@electric-sql/pglite'
import type { EventBus } from '@switchyard/core'
import { createRelay, getEventPublisher, migrate, pgliteDriver } from '@switchyard/outbox'

/** Topic the outbox demo publishes to. */
export const OUTBOX_DEMO_TOPIC = 'employees.outbox'

const TIMEOUT_MS = 10_000

/**
 * The transactional outbox on its embedded default, PGlite (PostgreSQL in WASM, in memory): a
 * hire is written with its event in one transaction; a second hire is rolled back and leaves no
 * event; the relay, woken by NOTIFY, publishes what was committed to `bus`. Cleans up after itself.
 * @example const { committed, rolledBack, published } = await runOutboxDemo(bus, console.log)
 * @throws {Error} when the committed event does not reach the bus within 10 s.
 */
export async function runOutboxDemo(
  bus: EventBus,
  log: (line: string) => void,
): Promise<{ committed: number; rolledBack: number; published: number }> {
  const db = new PGlite()
  const received: string[] = []
  let published = 0
  let committed = 0
  let rolledBack = 0
  const subscription = await bus.subscribe(
    OUTBOX_DEMO_TOPIC,
    (event) => void received.push(`${event.type} ${event.subject ?? ''}`.trim()),
    { group: 'outbox-demo' },
  )
  const relay = createRelay({
    driver: pgliteDriver(db),
    bus,
    retentionMs: 0,
    hooks: {
      onPublished: ({ count }) => {
        published += count
      },
    },
  })
  try {
    await migrate(db)
    await db.exec('CREATE TABLE employees (id text PRIMARY KEY, name text NOT NULL)')
    await relay.start()
    log('Outbox demo on PGlite (in-memory PostgreSQL)')

    const hire = (id: string, name: string, fail?: string) =>
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO employees (id, name) VALUES ($1, $2)', [id, name])
        // Marty's get_event_publisher(database_session=tx): with a session, events go to the outbox.
        const events = getEventPublisher({ bus, session: tx, useOutbox: true })
        await events.publish(OUTBOX_DEMO_TOPIC, {
          type: 'employee.hired',
          subject: id,
          partitionkey: id,
          data: { id, name },
        })
        if (fail !== undefined) throw new Error(fail)
      })

    await hire('e-100', 'Ada Lovelace')
    committed++
    log('  committed: employee e-100 and its employee.hired event, one transaction')
    try {
      await hire('e-101', 'Charles Babbage', 'background check failed')
    } catch (error) {
      rolledBack++
      log(`  rolled back: employee e-101 (${(error as Error).message}); its event went with it`)
    }

    const deadline = Date.now() + TIMEOUT_MS
    while (received.length < committed && Date.now() < deadline) await pause(10)
    if (received.length < committed)
      throw new Error(`outbox demo: the committed event did not arrive in ${TIMEOUT_MS} ms`)
    const employees = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM employees')
    const pending = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')
    log(`  relay published ${published} event(s): ${received.join(', ')}`)
    log(`  employees stored: ${employees.rows[0]?.n}; outbox rows left: ${pending.rows[0]?.n}`)
    return { committed, rolledBack, published }
  } finally {
    await relay.stop()
    await subscription.close()
    await db.close()
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
