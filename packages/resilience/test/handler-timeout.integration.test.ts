import {
  constant,
  createEventBus,
  type DeadLetterEntry,
  silentLogger,
  TimeoutError,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { HandlerTimeoutError, handlerGuard } from '../src/index.js'
import { brokers, unique } from './brokers.js'

const all = await brokers()
afterAll(() => Promise.all(all.map((b) => b.cleanup())))

describe.each(all)('handler timeout - $name', (broker) => {
  it.skipIf(broker.skip !== undefined)(
    'handler timeout - a handler past its limit is retried, then dead-lettered; its signal aborts at the deadline',
    async () => {
      const topic = unique('timeout.jobs')
      const retried: Error[] = []
      const dead: DeadLetterEntry[] = []
      const bus = createEventBus({
        transport: broker.make(),
        source: 'timeout-test',
        logger: silentLogger,
        hooks: {
          onRetry: ({ error }) => void (error && retried.push(error)),
          onDeadLetter: (entry) => void dead.push(entry),
        },
      })
      const guard = handlerGuard({ timeoutMs: 100 })
      const attempts = new Map<string, number>()
      const abortedAtDeadline: boolean[] = []
      const handled: string[] = []
      try {
        await guard.subscribe(
          bus,
          topic,
          async (event, ctx) => {
            const n = (attempts.get(event.type) ?? 0) + 1
            attempts.set(event.type, n)
            // 'job.flaky' is slow only on its first attempt; 'job.stuck' always.
            if (event.type === 'job.stuck' || n === 1) {
              await new Promise((resolve) => setTimeout(resolve, 300))
              abortedAtDeadline.push(ctx.signal.aborted)
              return
            }
            handled.push(event.type)
          },
          { group: 'workers', concurrency: 2, retry: { maxAttempts: 3, backoff: constant(10) } },
        )
        await bus.publish(topic, { type: 'job.flaky' })
        const stuck = await bus.publish(topic, { type: 'job.stuck' })
        await waitUntil(() => dead.length === 1 && handled.length === 1, {
          timeoutMs: 15_000,
          message: 'the stuck job dead-lettered and the flaky one handled',
        })
        expect(handled).toEqual(['job.flaky'])
        expect(attempts.get('job.flaky')).toBe(2)
        expect(attempts.get('job.stuck')).toBe(3)
        // One retry for the flaky job, two for the stuck one, each after a timeout.
        expect(retried).toHaveLength(3)
        for (const error of retried) {
          expect(error).toBeInstanceOf(HandlerTimeoutError)
          expect(error).toBeInstanceOf(TimeoutError)
          expect((error as HandlerTimeoutError).timeoutMs).toBe(100)
          expect((error as HandlerTimeoutError).retryable).toBe(true)
        }
        const entry = dead[0]!
        expect(entry.event?.id).toBe(stuck.id)
        expect(entry.attempts).toBe(3)
        expect(entry.error.name).toBe('HandlerTimeoutError')
        // The slow handlers went on running, but saw their signal abort at the deadline.
        await waitUntil(() => abortedAtDeadline.length === 4, {
          timeoutMs: 5_000,
          message: 'the slow handlers to end',
        })
        expect(abortedAtDeadline).toEqual([true, true, true, true])
      } finally {
        await bus.close()
      }
    },
    30_000,
  )
})
