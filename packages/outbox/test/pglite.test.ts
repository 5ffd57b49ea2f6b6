import { PGlite } from '@electric-sql/pglite'
import { pgliteDriver } from '../src/index.js'
import { storeSuite } from './store-suite.js'

// The embedded default: the same store behaviour on PostgreSQL compiled to WASM, in-process.
storeSuite('pglite', async () => {
  const db = new PGlite()
  const driver = pgliteDriver(db)
  return { driver, another: () => driver, close: () => db.close() }
})
