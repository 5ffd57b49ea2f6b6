import { describe, expect, it } from 'vitest'
import { binaryCodec } from './codec.js'
import { createEventBus } from './create-event-bus.js'
import { ConfigurationError } from './errors.js'
import type {
  InboundMessage,
  OutboundMessage,
  TransactionalOutput,
  Transport,
  TransportSubscribeOptions,
} from './transport.js'

const codec = binaryCodec()

/** A transport that declares exactly-once and records what each ack carried. */
function transactionalTransport() {
  const acks: Array<{ position: string; outputs: readonly TransactionalOutput[] | undefined }> = []
  const published: Array<{ topic: string; messages: readonly OutboundMessage[] }> = []
  const subscribed: TransportSubscribeOptions[] = []
  let feed: ((messages: InboundMessage[]) => void) | undefined
  const queue: InboundMessage[] = []
  const transport: Transport = {
    name: 'fake-eos',
    features: {
      consumerGroups: true,
      orderedPerKey: true,
      persistent: true,
      replayFromStart: true,
      nativeDelay: false,
      exactlyOnce: true,
    },
    async connect() {},
    async publish(topic, messages) {
      published.push({ topic, messages })
    },
    async subscribe(_topic, options) {
      subscribed.push(options)
      return {
        pull(max, signal, deliver) {
          if (queue.length > 0) return deliver(queue.splice(0, max))
          feed = (messages) => {
            feed = undefined
            deliver(messages)
          }
          signal.addEventListener('abort', () => feed?.([]), { once: true })
        },
        async close() {},
      }
    },
    async health() {
      return { status: 'up' }
    },
    async close() {},
  }
  let offset = 0
  const deliver = (topic: string, data: unknown) => {
    const position = `0:${offset++}`
    const encoded = codec.encode({
      specversion: '1.0',
      id: `in-${position}`,
      source: 'test',
      type: 'order.placed',
      time: new Date().toISOString(),
      data,
    })
    const message: InboundMessage = {
      topic,
      headers: encoded.headers,
      body: encoded.body,
      key: undefined,
      attempt: 1,
      position,
      ack: (outputs) => {
        acks.push({ position, outputs })
      },
      nack: () => undefined,
    }
    if (feed !== undefined) feed([message])
    else queue.push(message)
  }
  return { transport, acks, published, subscribed, deliver }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5))
  expect(check()).toBe(true)
}

const decode = (m: OutboundMessage) => codec.decode({ headers: m.headers, body: m.body })

describe('exactly-once delivery', () => {
  it('acks each event with the publishes of its successful attempt only, after the publish middleware, and sends nothing itself', async () => {
    const fake = transactionalTransport()
    const bus = createEventBus({
      transport: fake.transport,
      source: 'billing',
      middleware: [
        {
          publish: async (ctx, next) => {
            ctx.event = { ...ctx.event, subject: 'stamped' }
            await next()
          },
        },
      ],
    })
    let attempts = 0
    await bus.subscribe<{ n: number }>(
      'orders',
      async (event, ctx) => {
        attempts++
        await ctx.publish('invoices', {
          type: 'invoice.drafted',
          data: { n: event.data!.n, attempts },
        })
        if (attempts === 1) throw new Error('first attempt fails after publishing')
        const sent = await ctx.publish('audit', {
          type: 'audit.logged',
          data: { n: event.data!.n },
        })
        expect(sent.id).toBeTypeOf('string')
      },
      { group: 'billing', delivery: 'exactly-once', retry: { maxAttempts: 3, backoff: () => 0 } },
    )
    expect(fake.subscribed[0]).toMatchObject({ group: 'billing', exactlyOnce: true })
    fake.deliver('orders', { n: 7 })
    await until(() => fake.acks.length === 1)
    const [ack] = fake.acks
    expect(ack!.outputs!.map((o) => o.topic)).toEqual(['invoices', 'audit'])
    const invoice = decode(ack!.outputs![0]!.messages[0]!)
    expect(invoice).toMatchObject({
      type: 'invoice.drafted',
      data: { n: 7, attempts: 2 },
      subject: 'stamped',
      source: 'billing',
    })
    expect(ack!.outputs!.flatMap((o) => o.messages)).toHaveLength(2)
    expect(fake.published).toEqual([])
    await bus.close()
  })

  it('puts the dead letter in the ack, not in a separate publish', async () => {
    const fake = transactionalTransport()
    const bus = createEventBus({ transport: fake.transport, source: 'billing' })
    await bus.subscribe(
      'orders',
      async (_event, ctx) => {
        await ctx.publish('invoices', { type: 'invoice.drafted' })
        throw new Error('cannot bill')
      },
      { group: 'billing', delivery: 'exactly-once', retry: { maxAttempts: 1 } },
    )
    fake.deliver('orders', { n: 1 })
    await until(() => fake.acks.length === 1)
    const outputs = fake.acks[0]!.outputs!
    expect(outputs.map((o) => o.topic)).toEqual(['orders.dlq'])
    expect(decode(outputs[0]!.messages[0]!).data).toMatchObject({
      error: expect.objectContaining({ message: 'cannot bill' }),
    })
    expect(fake.published).toEqual([])
    await bus.close()
  })

  it('publishes at once from a handler that is not exactly-once, and refuses batches with exactly-once', async () => {
    const fake = transactionalTransport()
    const bus = createEventBus({ transport: fake.transport, source: 'billing' })
    await bus.subscribe(
      'orders',
      async (_event, ctx) => {
        await ctx.publish('invoices', { type: 'invoice.drafted' })
      },
      { group: 'plain' },
    )
    fake.deliver('orders', { n: 1 })
    await until(() => fake.acks.length === 1)
    expect(fake.acks[0]!.outputs).toBeUndefined()
    expect(fake.published.map((p) => p.topic)).toEqual(['invoices'])
    await expect(
      bus.subscribe('orders', async () => undefined, {
        group: 'batched',
        delivery: 'exactly-once',
        batch: { maxSize: 10 },
      }),
    ).rejects.toBeInstanceOf(ConfigurationError)
    await bus.close()
  })
})
