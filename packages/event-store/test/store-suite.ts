import { afterAll, beforeAll, describe } from 'vitest'
import { appendScenarios } from './scenarios-append.js'
import { orderScenarios } from './scenarios-order.js'
import { projectionScenarios } from './scenarios-projections.js'
import { readScenarios } from './scenarios-read.js'
import type { StoreFixture, SuiteEnv } from './suite-env.js'

/** The behaviour every database must show; run against PostgreSQL and PGlite. */
export function storeSuite(name: string, open: () => Promise<StoreFixture | string>): void {
  describe(name, () => {
    let fx: StoreFixture | undefined
    let skip: string | undefined
    beforeAll(async () => {
      const opened = await open()
      if (typeof opened === 'string') skip = opened
      else fx = opened
    }, 60_000)
    afterAll(async () => {
      await fx?.close()
    })
    const env: SuiteEnv = {
      get fx() {
        return fx!
      },
      get skip() {
        return skip
      },
    }
    appendScenarios(env)
    readScenarios(env)
    orderScenarios(env)
    projectionScenarios(env)
  })
}
