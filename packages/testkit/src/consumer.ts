// `@switchyard/testkit/consumer`: the child half of the killed-consumer scenario, for a script
// run by `startConsumerProcess`. A separate entry point, so the script loads no vitest.
import { createEventBus } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { CONSUMER_SPEC_ENV, type ConsumerSpec } from './consumer-protocol.js'

export { CONSUMER_SPEC_ENV, type ConsumerSpec } from './consumer-protocol.js'

/**
 * Runs one member of the spec's group on `transport` and reports on stdout, one JSON object a
 * line: `{"ready":true}` once subscribed, then `{"started":id}` and `{"finished":id}` per event.
 * The first `finishFirst` events finish; every later handler never returns, so a SIGKILL lands
 * mid-handler. The spec comes from the `SWITCHYARD_CONSUMER` environment variable.
 * @example
 * // test/fixtures/consumer.ts, started with startConsumerProcess(url, spec, { args: [brokerUrl] })
 * await runConsumerProcess(redisTransport({ url: process.argv[2] }))
 */
export async function runConsumerProcess(transport: Transport): Promise<void> {
  const raw = process.env[CONSUMER_SPEC_ENV]
  if (raw === undefined) throw new Error(`${CONSUMER_SPEC_ENV} is not set`)
  const spec = JSON.parse(raw) as ConsumerSpec
  const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)
  const bus = createEventBus({ source: 'consumer-process', transport })
  let finished = 0
  await bus.subscribe(
    spec.topic,
    async (event) => {
      say({ started: event.id })
      if (finished >= spec.finishFirst) return new Promise<never>(() => undefined)
      finished++
      say({ finished: event.id })
    },
    {
      group: spec.group,
      concurrency: spec.concurrency,
      prefetch: spec.prefetch,
      ...(spec.delivery === undefined ? {} : { delivery: spec.delivery }),
    },
  )
  say({ ready: true })
}
