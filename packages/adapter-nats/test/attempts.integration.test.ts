import { createEventBus, type EventBus, MessagesLostError } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

// An event a member abandons (its handler still running when the member leaves) keeps its retry
// budget: the next delivery is the next attempt, whichever process gets it.
const prefix = runPrefix('att')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const ns = `att${Math.random().toString(36).slice(2, 8)}`
const buses: EventBus[] = []

function bus(hooks: Parameters<typeof createEventBus>[0]['hooks'] = {}, maxDeliver = -1): EventBus {
  const transport = natsTransport({
    servers: NATS_URL,
    autoStreams: { prefix },
    ackWaitMs: 500,
    maxDeliver,
  })
  const created = createEventBus({ transport, source: 'attempts-test', hooks })
  buses.push(created)
  return created
}

afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.close({ timeoutMs: 100 })))
})
afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})

describe.skipIf(skip !== undefined)('nats attempts', () => {
  it('attempts - an event whose handler hangs counts each abandoned delivery and is dead-lettered at maxAttempts', async () => {
    const topic = `${ns}.hangs`
    const group = { group: 'hangs', retry: { maxAttempts: 3, backoff: () => 10 } }
    const seen: number[] = []
    const dead: number[] = []
    // The handler hangs until the last attempt, which fails: only a count that survives
    // abandonment ever gets there.
    const handler = (_e: unknown, ctx: { attempt: number }) => {
      seen.push(ctx.attempt)
      if (ctx.attempt < 3) return new Promise<void>(() => undefined)
      throw new Error('still broken')
    }
    const creator = bus()
    await (await creator.subscribe(topic, () => undefined, group)).close()
    await creator.publish(topic, { type: 'hang' })
    for (let member = 0; member < 4 && dead.length === 0; member++) {
      const b = bus({ onDeadLetter: (entry) => void dead.push(entry.attempts) })
      const before = seen.length
      await b.subscribe(topic, handler, group)
      await waitUntil(() => seen.length > before, { timeoutMs: 10_000, message: 'a delivery' })
      if (seen.at(-1)! < 3) {
        // The member leaves while its handler hangs: the event is abandoned.
        await b.close({ timeoutMs: 100 })
      } else {
        await waitUntil(() => dead.length === 1, { timeoutMs: 10_000, message: 'the dead letter' })
      }
    }
    expect(seen).toEqual([1, 2, 3])
    expect(dead).toEqual([3])
  })

  it('attempts - an event the server gives up on at maxDeliver is reported, not silently parked', async () => {
    const topic = `${ns}.capped`
    const group = { group: 'capped', retry: { maxAttempts: 5 } }
    const seen: number[] = []
    const errors: Error[] = []
    const hang = (_e: unknown, ctx: { attempt: number }) => {
      seen.push(ctx.attempt)
      return new Promise<void>(() => undefined)
    }
    const creator = bus({}, 2)
    await (await creator.subscribe(topic, () => undefined, group)).close()
    await creator.publish(topic, { type: 'hang' })
    for (let member = 0; member < 2; member++) {
      const b = bus({}, 2)
      await b.subscribe(topic, hang, group)
      await waitUntil(() => seen.length > member, { timeoutMs: 10_000, message: 'a delivery' })
      await b.close({ timeoutMs: 100 })
    }
    // The second delivery was the last the server makes; the member still there hears of it.
    await bus({ onError: (error) => void errors.push(error) }, 2).subscribe(topic, hang, group)
    await waitUntil(() => errors.some((e) => e instanceof MessagesLostError), {
      timeoutMs: 10_000,
      message: 'a MessagesLostError for the event the server gave up on',
    })
    expect(seen).toEqual([1, 2])
    expect(errors.find((e) => e instanceof MessagesLostError)?.message).toMatch(/maxDeliver/)
  })
})
