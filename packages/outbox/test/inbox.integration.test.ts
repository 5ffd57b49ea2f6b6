import { type OutboxDriver, pgDriver } from '../src/index.js'
import { inboxSuite } from './inbox-suite.js'
import { POSTGRES_URL, postgresOrSkip } from './support.js'

inboxSuite('postgres', async () => {
  const skip = await postgresOrSkip()
  if (skip !== undefined) return skip
  const drivers: OutboxDriver[] = []
  const open = () => {
    const driver = pgDriver({ connectionString: POSTGRES_URL, max: 4 })
    drivers.push(driver)
    return driver
  }
  return {
    driver: open(),
    another: open,
    close: async () => {
      await Promise.all(drivers.map((d) => d.close()))
    },
  }
})
