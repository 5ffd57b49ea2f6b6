import type { Middleware } from '@switchyard/core'
import { afterAll, beforeAll, describe } from 'vitest'
import { createRelay, migrate, type RelayOptions } from '../src/index.js'
import { enqueueScenarios } from './scenarios-enqueue.js'
import { healthScenarios } from './scenarios-health.js'
import { poisonScenarios } from './scenarios-poison.js'
import { relayScenarios } from './scenarios-relay.js'
import type { StoreFixture, SuiteEnv } from './suite-env.js'
import { dropOutbox, harness, uniqueTable } from './support.js'

/** The behaviour every store must show; run against each database. */
export function storeSuite(name: string, open: () => Promise<StoreFixture | string>): void {
  describe(name, () => {
    let fx: StoreFixture
    let skip: string | undefined
    beforeAll(async () => {
      const opened = await open()
      if (typeof opened === 'string') skip = opened
      else fx = opened
    })
    afterAll(async () => {
      await fx?.close()
    })

    async function setup(
      extra: Partial<RelayOptions> = {},
      topics = ['orders'],
      middleware: Middleware[] = [],
    ) {
      const table = uniqueTable()
      await migrate(fx.driver, { table })
      await fx.driver.query(
        `CREATE TABLE ${table}_orders (id text PRIMARY KEY, total int NOT NULL)`,
      )
      const h = await harness(topics)
      const bus = h.producer(middleware)
      const relay = createRelay({ driver: fx.driver, bus, table, pollIntervalMs: 50, ...extra })
      const cleanup = async () => {
        await relay.stop()
        await h.close()
        await dropOutbox(fx.driver, table)
        await fx.driver.query(`DROP TABLE ${table}_orders`)
      }
      return { table, h, bus, relay, cleanup }
    }

    const env: SuiteEnv = {
      get fx() {
        return fx
      },
      get skip() {
        return skip
      },
      setup,
    }
    enqueueScenarios(env)
    relayScenarios(env)
    poisonScenarios(env)
    healthScenarios(env)
  })
}
