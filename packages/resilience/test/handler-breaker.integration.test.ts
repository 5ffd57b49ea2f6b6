import { constant, createEventBus, silentLogger } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { type BreakerState, handlerGuard } from '../src/index.js'
import { brokers, countingPulls, unique } from './brokers.js'

const all = await brokers()
afterAll(() => Promise.all(all.map((b) => b.cleanup())))

describe.each(all)('handler breaker - $name', (broker) => {
  it.skipIf(broker.skip !== undefined)(
    'breaker - a handler failing continuously opens the breaker, the subscription stops pulling while open, then it recovers and handles the backlog',
    async () => {
      const topic = unique('breaker.orders')
      const { transport, pulls } = countingPulls(broker.make(), topic)
      const bus = createEventBus({ transport, source: 'breaker-test', logger: silentLogger })
      const changes: Array<{ state: BreakerState; pulls: number; calls: number; at: number }> = []
      const guard = handlerGuard({
        breaker: {
          consecutiveFailures: 3,
          halfOpenAfterMs: 1_000,
          onStateChange: ({ state }) =>
            changes.push({ state, pulls: pulls(), calls, at: Date.now() }),
        },
      })
      let failing = true
      let calls = 0
      const handled = new Set<string>()
      try {
        await guard.subscribe(
          bus,
          topic,
          async (event) => {
            calls++
            if (failing) throw new Error('the downstream service is down')
            handled.add(event.id)
          },
          { group: 'billing', prefetch: 64, retry: { maxAttempts: 1_000, backoff: constant(20) } },
        )
        const sent = new Set<string>()
        for (let i = 0; i < 10; i++)
          sent.add((await bus.publish(topic, { type: 'order.placed', data: { i } })).id)
        await waitUntil(() => guard.state === 'open', {
          timeoutMs: 10_000,
          message: 'the breaker to open',
        })
        const callsAtOpen = calls
        // Events that arrive while open: a subscription that kept pulling would read them.
        for (let i = 10; i < 20; i++)
          sent.add((await bus.publish(topic, { type: 'order.placed', data: { i } })).id)
        await waitUntil(() => changes.filter((c) => c.state === 'half-open').length >= 1, {
          timeoutMs: 10_000,
          message: 'the first half-open',
        })
        // Still failing: the probe opens it again.
        await waitUntil(() => changes.filter((c) => c.state === 'open').length >= 2, {
          timeoutMs: 10_000,
          message: 'the failed probe to open it again',
        })
        failing = false
        await waitUntil(() => guard.state === 'closed', {
          timeoutMs: 10_000,
          message: 'the breaker to close',
        })
        await waitUntil(() => handled.size === sent.size, {
          timeoutMs: 20_000,
          message: 'the backlog',
          describe: () => `${handled.size} of ${sent.size}`,
        })
        expect([...handled].sort()).toEqual([...sent].sort())

        // Every open spell: not one pull, and the handler not called, from open to half-open.
        const spells = changes.flatMap((c, i) => {
          const next = changes[i + 1]
          return c.state === 'open' && next?.state === 'half-open' ? [[c, next] as const] : []
        })
        expect(spells.length).toBeGreaterThanOrEqual(2)
        for (const [open, halfOpen] of spells) {
          expect(halfOpen.pulls).toBe(open.pulls)
          expect(halfOpen.calls).toBe(open.calls)
          expect(halfOpen.at - open.at).toBeGreaterThanOrEqual(990)
        }
        // Three failures in a row opened it.
        expect(callsAtOpen).toBe(3)
        expect(changes.map((c) => c.state).slice(-2)).toEqual(['half-open', 'closed'])
        // Once closed, new events flow as before.
        const later = await bus.publish(topic, { type: 'order.placed', data: { i: 20 } })
        await waitUntil(() => handled.has(later.id), {
          timeoutMs: 10_000,
          message: 'a later event',
        })
      } finally {
        await bus.close()
      }
    },
    60_000,
  )
})
