import { type OutboxDriver, pgDriver } from '../src/index.js'
import { storeSuite } from './store-suite.js'
import { testDatabase } from './support.js'

storeSuite('postgres', async () => {
  const db = await testDatabase()
  if (typeof db === 'string') return db
  const drivers: OutboxDriver[] = []
  const open = () => {
    const driver = pgDriver({ connectionString: db.url, max: drivers.length === 0 ? 16 : 4 })
    drivers.push(driver)
    return driver
  }
  return {
    driver: open(),
    another: open,
    concurrent: true,
    async close() {
      await Promise.all(drivers.map((d) => d.close()))
      await db.drop()
    },
  }
})
