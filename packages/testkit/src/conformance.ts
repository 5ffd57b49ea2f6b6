import { afterAll, afterEach, describe } from 'vitest'
import { type ConformanceOptions, Harness, type TransportFactory } from './harness.js'
import { batchScenarios, deliveryModeScenarios } from './scenarios-batch.js'
import { controlScenarios, seekScenarios } from './scenarios-control.js'
import { deliveryScenarios } from './scenarios-delivery.js'
import { faultScenarios } from './scenarios-faults.js'
import { inspectScenarios } from './scenarios-inspect.js'
import { lifecycleScenarios } from './scenarios-lifecycle.js'
import { limitScenarios } from './scenarios-limits.js'
import { raceScenarios } from './scenarios-races.js'
import { retryScenarios } from './scenarios-retry.js'
import { routingScenarios } from './scenarios-routing.js'

/**
 * The transport conformance suite: every scenario of the contract, with exact counts, against
 * transports made by `make` (each call one "process" on the same broker). Scenarios a transport
 * cannot support are skipped by capability flag, visibly; so are the fault scenarios whose hook
 * (`injectRaw`, `spawnConsumer`, `restart` or `privateBroker`) is not given.
 * @example
 * const skip = await serviceOrSkip('Redis', () => ping(url))
 * transportConformance('redis', () => redisTransport({ url }), { skip, features: redisFeatures })
 */
export function transportConformance(
  name: string,
  make: TransportFactory,
  options: ConformanceOptions,
): void {
  const title =
    options.skip === undefined
      ? `${name} - transport conformance`
      : `${name} - transport conformance (skipped: ${options.skip})`
  describe.skipIf(options.skip !== undefined)(title, () => {
    const h = new Harness(name, make, options)
    afterEach(() => h.cleanup())
    afterAll(() => h.dispose())
    deliveryScenarios(h)
    retryScenarios(h)
    lifecycleScenarios(h)
    limitScenarios(h)
    faultScenarios(h)
    raceScenarios(h)
    routingScenarios(h)
    inspectScenarios(h)
    controlScenarios(h)
    seekScenarios(h)
    batchScenarios(h)
    deliveryModeScenarios(h)
  })
}
