import { createEventBus } from '@switchyard/core'
import { afterAll, expect, it, vi } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { createTopics, FAST, rawClient } from './helpers.js'
import { PrivateBroker } from './private-broker.js'

vi.setConfig({ testTimeout: 300_000 })
let broker: PrivateBroker
afterAll(async () => {
  await broker?.destroy()
})

it('diag - restart while publishing', async () => {
  broker = await PrivateBroker.start()
  const brokers = broker.brokers
  const topic = `diag.${Date.now()}`
  await createTopics([topic, `${topic}.dlq`], 3, brokers)
  const make = () => kafkaTransport({ brokers, ...FAST })
  const producer = createEventBus({ transport: make(), source: 'p' })
  const consumer = createEventBus({ transport: make(), source: 'c' })
  const seen = new Map<string, string>()
  await consumer.subscribe(topic, (e, ctx) => void seen.set(e.id, `${ctx.attempt}`), {
    group: 'restart',
    concurrency: 16,
    retry: { maxAttempts: 100 },
  })
  const sent: string[] = []
  let restarting: Promise<void> = Promise.resolve()
  let n = 0
  const log: string[] = []
  for (let batch = 0; batch < 100; batch++) {
    const events = Array.from({ length: 100 }, (_, i) => ({
      type: 't',
      id: `${batch}-${i}`,
      data: { batch, i },
    }))
    for (;;) {
      try {
        await producer.publishBatch(topic, events)
        log.push(`batch ${batch} ok at ${Date.now()}`)
        break
      } catch (error) {
        log.push(
          `batch ${batch} failed at ${Date.now()}: ${(error as Error).message.slice(0, 160)}`,
        )
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    sent.push(...events.map((e) => e.id))
    if (batch === 33 || batch === 50) {
      await restarting
      const which = n++ % 2 === 0
      log.push(`restart ${which ? 'graceful' : 'kill'} begins at ${Date.now()}`)
      restarting = broker.restart(which).then(() => void log.push(`restart done at ${Date.now()}`))
    }
  }
  await restarting
  const deadline = Date.now() + 40_000
  while (seen.size < 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  if (seen.size < 10_000) {
    const missing = sent.filter((id) => !seen.has(id))
    console.log('MISSING', missing.length, missing.slice(0, 5), missing.at(-1))
    console.log(log.join('\n'))
    const kafka = rawClient(brokers)
    const admin = kafka.admin()
    await admin.connect()
    console.log('END OFFSETS', JSON.stringify(await admin.fetchTopicOffsets(topic)))
    console.log(
      'COMMITTED',
      JSON.stringify(await admin.fetchOffsets({ groupId: 'restart', topics: [topic] })),
    )
    await admin.disconnect()
    // Read the whole topic: are the missing ids stored at all, and where?
    const reader = kafka.consumer({ groupId: `diag-${Date.now()}` })
    await reader.connect()
    await reader.subscribe({ topic, fromBeginning: true })
    const where = new Map<string, string>()
    let total = 0
    await reader.run({
      eachMessage: async ({ partition, message }) => {
        total++
        const id = message.headers?.ce_id?.toString()
        if (id && missing.includes(id)) where.set(id, `${partition}:${message.offset}`)
      },
    })
    const until = Date.now() + 15_000
    while (total < 10_000 && Date.now() < until) await new Promise((r) => setTimeout(r, 200))
    console.log('STORED TOTAL', total, 'MISSING FOUND', where.size, [...where].slice(0, 5))
    await reader.disconnect()
  }
  await producer.close()
  await consumer.close()
  expect(seen.size).toBe(10_000)
})
