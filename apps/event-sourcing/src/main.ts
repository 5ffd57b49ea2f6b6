// `pnpm --filter @switchyard/example-event-sourcing start`: the example on PGlite in memory, or
// on PostgreSQL when DATABASE_URL is set.
import { PGlite } from '@electric-sql/pglite'
import { pgDriver, pgliteDriver } from '@switchyard/event-store'
import { runExample } from './example.js'

const url = process.env.DATABASE_URL
const db = url === undefined ? new PGlite() : undefined
const driver = db === undefined ? pgDriver({ connectionString: url! }) : pgliteDriver(db)
try {
  const result = await runExample(driver)
  console.log(`done: ${result.notified.length} events published through the outbox`)
} finally {
  await driver.close()
  await db?.close()
}
