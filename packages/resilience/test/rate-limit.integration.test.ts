import {
  createEventBus,
  type EventBus,
  type Middleware,
  type PublishMiddleware,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { handlerGuard, publishRateLimit, RateLimitedError, tenantRateLimit } from '../src/index.js'
import { brokers, unique } from './brokers.js'

const all = await brokers()
afterAll(() => Promise.all(all.map((b) => b.cleanup())))

/** Publish middleware placed after a limiter: when each event got through, by tenant. */
function stamps(): { middleware: Middleware; times: Map<string, number[]> } {
  const times = new Map<string, number[]>()
  const publish: PublishMiddleware = async (ctx, next) => {
    const key = ctx.event.tenantid ?? ''
    const list = times.get(key) ?? []
    list.push(performance.now())
    times.set(key, list)
    await next()
  }
  return { middleware: { name: 'stamps', publish }, times }
}

/** `workers` loops publishing as fast as the limiter lets them until `ms` passed. */
async function flood(
  bus: EventBus,
  topic: string,
  ms: number,
  workers: number,
  tenant?: string,
): Promise<number> {
  const deadline = performance.now() + ms
  let sent = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        await bus.publish(topic, { type: 'load.test', ...(tenant && { tenantid: tenant }) })
        sent++
      }
    }),
  )
  return sent
}

/** Events stamped within `ms` of the first one. */
function inWindow(list: number[] | undefined, ms: number): number {
  if (list === undefined || list.length === 0) return 0
  const first = list[0]!
  return list.filter((t) => t - first < ms).length
}

const WINDOW_MS = 5_000

describe.each(all)('rate limits - $name', (broker) => {
  it.skipIf(broker.skip !== undefined)(
    'publish rate limit - 100/s holds within 10 % over 5 s, and every event reaches the broker',
    async () => {
      const rate = 100
      const topic = unique('rate.publish')
      const seen = stamps()
      const bus = createEventBus({
        transport: broker.make(),
        source: 'rate-test',
        middleware: [publishRateLimit({ perSecond: rate }), seen.middleware],
        logger: silentLogger,
      })
      let received = 0
      try {
        await bus.subscribe(topic, () => void received++, { group: 'count' })
        const sent = await flood(bus, topic, WINDOW_MS, 16)
        const passed = inWindow(seen.times.get(''), WINDOW_MS)
        expect(passed).toBeGreaterThanOrEqual(rate * 5 * 0.9)
        expect(passed).toBeLessThanOrEqual(rate * 5 * 1.1)
        await waitUntil(() => received === sent, {
          timeoutMs: 10_000,
          message: 'every published event',
          describe: () => `${received} of ${sent}`,
        })
      } finally {
        await bus.close()
      }
    },
    30_000,
  )

  it.skipIf(broker.skip !== undefined)(
    'tenant rate limit - each tenant holds its own rate (40/s and an 80/s override) within 10 % over 5 s, side by side',
    async () => {
      const topic = unique('rate.tenants')
      const seen = stamps()
      const bus = createEventBus({
        transport: broker.make(),
        source: 'tenant-test',
        middleware: [tenantRateLimit({ perSecond: 40, tenants: { big: 80 } }), seen.middleware],
        logger: silentLogger,
      })
      try {
        // No tenant: this limiter leaves it alone (200 at 40/s would take 5 s).
        const started = performance.now()
        for (let i = 0; i < 200; i++) await bus.publish(topic, { type: 'load.test' })
        expect(performance.now() - started).toBeLessThan(2_000)
        await Promise.all([
          flood(bus, topic, WINDOW_MS, 8, 'small'),
          flood(bus, topic, WINDOW_MS, 8, 'big'),
        ])
        const small = inWindow(seen.times.get('small'), WINDOW_MS)
        const big = inWindow(seen.times.get('big'), WINDOW_MS)
        expect(small).toBeGreaterThanOrEqual(200 * 0.9)
        expect(small).toBeLessThanOrEqual(200 * 1.1)
        expect(big).toBeGreaterThanOrEqual(400 * 0.9)
        expect(big).toBeLessThanOrEqual(400 * 1.1)
      } finally {
        await bus.close()
      }
    },
    30_000,
  )

  it.skipIf(broker.skip !== undefined)(
    "tenant rate limit - in 'fail' mode a flooding tenant gets RateLimitedError, another tenant is not slowed",
    async () => {
      const topic = unique('rate.fail')
      const bus = createEventBus({
        transport: broker.make(),
        source: 'tenant-fail-test',
        middleware: [tenantRateLimit({ perSecond: 20, burst: 5, mode: 'fail' })],
        logger: silentLogger,
      })
      try {
        const results = await Promise.all(
          Array.from({ length: 30 }, () =>
            bus.publish(topic, { type: 'load.test', tenantid: 'noisy' }).then(
              () => undefined,
              (error: unknown) => error,
            ),
          ),
        )
        const refused = results.filter((r) => r !== undefined)
        // The burst of 5 passes; the rest is refused at once, none waits.
        expect(results.length - refused.length).toBe(5)
        for (const error of refused) {
          expect(error).toBeInstanceOf(RateLimitedError)
          expect((error as RateLimitedError).tenant).toBe('noisy')
          expect((error as RateLimitedError).retryable).toBe(true)
          expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0)
          expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(50)
        }
        // The quiet tenant's own burst is untouched by the noisy one.
        const quiet = await Promise.all(
          Array.from({ length: 5 }, () =>
            bus.publish(topic, { type: 'load.test', tenantid: 'quiet' }),
          ),
        )
        expect(quiet).toHaveLength(5)
      } finally {
        await bus.close()
      }
    },
    30_000,
  )

  it.skipIf(broker.skip !== undefined)(
    'handler rate limit - 50 handled/s holds within 10 % over 3 s; events wait, none fails',
    async () => {
      const rate = 50
      const topic = unique('rate.handle')
      const bus = createEventBus({
        transport: broker.make(),
        source: 'handle-rate',
        logger: silentLogger,
      })
      const handledAt: number[] = []
      const retries = 0
      const guard = handlerGuard({ rateLimit: { perSecond: rate } })
      try {
        const sub = await guard.subscribe(
          bus,
          topic,
          () => void handledAt.push(performance.now()),
          {
            group: 'slow',
            concurrency: 4,
            prefetch: 16,
          },
        )
        const total = 400
        for (let i = 0; i < total; i += 100) {
          await bus.publishBatch(
            topic,
            Array.from({ length: 100 }, (_, j) => ({ type: 'load.test', data: { n: i + j } })),
          )
        }
        await waitUntil(() => handledAt.length > 0 && performance.now() - handledAt[0]! > 3_100, {
          timeoutMs: 10_000,
          message: 'three seconds of handling',
        })
        const handled = inWindow(handledAt, 3_000)
        expect(handled).toBeGreaterThanOrEqual(rate * 3 * 0.9)
        expect(handled).toBeLessThanOrEqual(rate * 3 * 1.1)
        // The subscription read no further than prefetch ahead of the handlers.
        expect(sub.stats().maxHeld).toBeLessThanOrEqual(16)
        expect(retries).toBe(0)
      } finally {
        await bus.close({ timeoutMs: 1_000 })
      }
    },
    30_000,
  )
})
