import { PGlite } from '@electric-sql/pglite'
import { pgliteDriver } from '../src/index.js'
import { storeSuite } from './store-suite.js'

// The embedded default: the same behaviour on PostgreSQL compiled to WASM, in the process.
storeSuite('pglite', async () => {
  const db = new PGlite()
  const driver = pgliteDriver(db)
  return { driver, another: () => driver, concurrent: false, close: () => db.close() }
})
