import { PGlite } from '@electric-sql/pglite'
import { ConfigurationError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { inboxMigrationSql, pgInboxStore, pgliteDriver } from '../src/index.js'
import { inboxSuite } from './inbox-suite.js'

// The embedded default: one connection, so transactions queue instead of overlapping.
inboxSuite('pglite', async () => {
  const db = new PGlite()
  return { driver: pgliteDriver(db), another: () => undefined, close: () => db.close() }
})

describe('inbox options', () => {
  it('inbox - a store without a driver, with an invalid table or an unknown option is a ConfigurationError', () => {
    const driver = pgliteDriver(new PGlite())
    expect(() => pgInboxStore({} as never)).toThrow(ConfigurationError)
    expect(() => pgInboxStore({ driver, table: 'Inbox; DROP' })).toThrow(/Invalid inbox table/)
    expect(() => pgInboxStore({ driver, ttl: 5 } as never)).toThrow(/pgInboxStore.ttl/)
    expect(() => pgInboxStore({ driver, ttlMs: 0 })).toThrow(ConfigurationError)
    expect(() => inboxMigrationSql('a.b.c')).toThrow(ConfigurationError)
    expect(inboxMigrationSql('app.inbox')).toContain('CREATE TABLE IF NOT EXISTS "app"."inbox"')
  })
})
