// The cost of exactly-once on Kafka: a consume-process-produce loop (read an event, publish one
// result with ctx.publish) with delivery 'exactly-once' beside the same loop at-least-once
// (ctx.publish is then bus.publish), in the same run. Both are timed from the first to the last
// result seen by a read_committed reader of the output topic. 1 KB events, 3 partitions.
// Reads SWITCHYARD_KAFKA_BROKERS (default 127.0.0.1:9092).
import { kafkaTransport } from '@switchyard/adapter-kafka'
import { createEventBus } from '@switchyard/core'
import { Kafka, logLevel } from 'kafkajs'
import { bestOfRounds, firstToLast } from '../../../tooling/bench/pacing.mjs'
import { adminOrSkip } from './connect.mjs'

const brokers = process.env.SWITCHYARD_KAFKA_BROKERS ?? '127.0.0.1:9092'
const data = { employee_id: 'emp_123', note: 'x'.repeat(1_000 - 40) }
const run = Math.random().toString(36).slice(2, 8)
const created = []
let topics = 0
const options = { brokers, logLevel: 'nothing', heartbeatIntervalMs: 500, sessionTimeoutMs: 10_000 }

async function createTopic(admin, label) {
  const topic = `bench.${label}.${run}.${++topics}`
  created.push(topic)
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
  return topic
}

/** One round: `count` inputs through a processor with `delivery`, timed at the output's reader. */
async function loop(admin, input, count, delivery) {
  const output = await createTopic(admin, `eos-out-${delivery}`)
  const bus = createEventBus({ source: 'bench', transport: kafkaTransport(options) })
  const clock = firstToLast(count)
  try {
    await bus.subscribe(output, () => clock.tick(), { group: `reader-${run}-${topics}` })
    await bus.subscribe(
      input,
      async (event, ctx) => {
        await ctx.publish(output, { type: 'employee.invoiced', data: event.data })
      },
      { group: `processor-${run}-${topics}`, startAt: 'earliest', delivery, concurrency: 64 },
    )
    await clock.done
    return clock.rate
  } finally {
    await bus.close()
  }
}

export default async function bench({ report, quick }) {
  const kafka = new Kafka({
    clientId: 'bench-eos',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  })
  const admin = await adminOrSkip(kafka, brokers)
  if (admin === undefined) return
  try {
    const count = quick ? 5_000 : 30_000
    const input = await createTopic(admin, 'eos-in')
    const filler = createEventBus({ source: 'bench', transport: kafkaTransport(options) })
    for (let sent = 0; sent < count; sent += 1_000)
      await filler.publishBatch(
        input,
        Array.from({ length: 1_000 }, (_, i) => ({
          type: 'employee.created',
          partitionkey: `emp_${(sent + i) % 500}`,
          data,
        })),
      )
    await filler.close()
    const rounds = quick ? 1 : 3
    const result = await bestOfRounds(rounds, {
      raw: () => loop(admin, input, count, 'at-least-once'),
      ours: () => loop(admin, input, count, 'exactly-once'),
    })
    report({
      scenario:
        'kafka consume-process-produce, 1 KB events, 3 partitions: exactly-once (ratio: its cost)',
      unit: 'events/s',
      ours: result.ours,
      raw: result.raw,
      rawLabel: 'the same loop at-least-once (ctx.publish = bus.publish)',
    })
  } finally {
    await admin.deleteTopics({ topics: created }).catch(() => undefined)
    await admin.disconnect()
  }
}
