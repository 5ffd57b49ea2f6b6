import { ConfigurationError } from '@switchyard/core'
import { describe, expect, it } from 'vitest'
import { migrationSql, tableNames } from './schema.js'

describe('schema', () => {
  it('schema - derives quoted names, channel and a stable lock space from the table', () => {
    const names = tableNames('app.events_outbox')
    expect(names.table).toBe('"app"."events_outbox"')
    expect(names.channel).toBe('events_outbox_ready')
    expect(names.lockSpace).toBe(tableNames('app.events_outbox').lockSpace)
    expect(names.lockSpace).not.toBe(tableNames('outbox').lockSpace)
    expect(tableNames().table).toBe('"outbox"')
  })

  it('schema - rejects names that are not plain lower-case identifiers', () => {
    for (const bad of ['Outbox', 'a.b.c', 'out box', 'x;drop table y', '', '1abc']) {
      expect(() => tableNames(bad)).toThrow(ConfigurationError)
    }
  })

  it('schema - the migration is idempotent DDL under one advisory lock', () => {
    const sql = migrationSql('app.box')
    expect(sql).toMatch(/^\s*SELECT pg_advisory_xact_lock/)
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "app"."box"')
    for (const statement of sql.match(/CREATE (UNIQUE )?INDEX[^;]+/g) ?? []) {
      expect(statement).toContain('IF NOT EXISTS')
    }
    expect(sql).toContain(`pg_notify('box_ready'`)
  })
})
