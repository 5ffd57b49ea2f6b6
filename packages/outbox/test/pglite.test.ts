import { PGlite } from '@electric-sql/pglite'
import { migrate, pgliteDriver } from '../src/index.js'
import { storeSuite } from './store-suite.js'

// The embedded default: the same store behaviour on PostgreSQL compiled to WASM, in-process.
storeSuite('pglite', async () => {
  const db = new PGlite()
  const driver = pgliteDriver(db)
  return {
    driver,
    another: () => driver,
    async idleTimeout(ms) {
      // Same instance, same session: the setting stays for the rest of the suite, where it has
      // no effect either (see the claim-connection scenario).
      await db.query(`SET idle_in_transaction_session_timeout = ${Math.round(ms)}`)
      return driver
    },
    async unreachable() {
      const gone = new PGlite()
      await migrate(gone)
      return { driver: pgliteDriver(gone), cut: () => gone.close() }
    },
    close: () => db.close(),
  }
})
