import { sparePort } from '@switchyard/testkit'
import pg from 'pg'
import { type OutboxDriver, pgDriver } from '../src/index.js'
import { storeSuite } from './store-suite.js'
import { POSTGRES_URL, postgresOrSkip } from './support.js'

storeSuite('postgres', async () => {
  const skip = await postgresOrSkip()
  if (skip !== undefined) return skip
  const drivers: OutboxDriver[] = []
  const pools: pg.Pool[] = []
  const open = () => {
    const driver = pgDriver({ connectionString: POSTGRES_URL, max: 4 })
    drivers.push(driver)
    return driver
  }
  return {
    driver: open(),
    another: open,
    async idleTimeout(ms) {
      const pool = new pg.Pool({
        connectionString: POSTGRES_URL,
        max: 4,
        options: `-c idle_in_transaction_session_timeout=${Math.round(ms)}`,
      })
      // The server ends idle sessions too; the pool hears it on idle clients.
      pool.on('error', () => undefined)
      pools.push(pool)
      return pgDriver({ pool })
    },
    async unreachable() {
      const port = await sparePort()
      const driver = pgDriver({ connectionString: `postgres://postgres@127.0.0.1:${port}/none` })
      drivers.push(driver)
      return { driver, cut: async () => undefined }
    },
    close: async () => {
      await Promise.all(drivers.map((d) => d.close()))
      await Promise.all(pools.map((p) => p.end()))
    },
  }
})
