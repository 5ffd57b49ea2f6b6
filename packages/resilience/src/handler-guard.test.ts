import { memoryTransport } from '@switchyard/adapter-memory'
import {
  ConfigurationError,
  constant,
  createEventBus,
  type EventBus,
  HandlerError,
  outcome,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { CircuitOpenError } from './errors.js'
import { handlerGuard } from './handler-guard.js'

let bus: EventBus
afterEach(() => bus?.close())

function newBus(): EventBus {
  bus = createEventBus({ transport: memoryTransport(), source: 'guard-test', logger: silentLogger })
  return bus
}

const retry = { maxAttempts: 100, backoff: constant(5) }

describe('handler guard', () => {
  it('handler guard - outcome.retry() counts as a failure and opens the breaker', async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } })
    await guard.subscribe(bus, 'guard.retry', () => outcome.retry({ delayMs: 5 }), { retry })
    await bus.publish('guard.retry', { type: 't' })
    await waitUntil(() => guard.state === 'open', { timeoutMs: 5_000, message: 'open' })
  })

  it('handler guard - non-retryable errors do not count (a poison event is not an outage)', async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } })
    let calls = 0
    const dead: string[] = []
    bus = createEventBus({
      transport: memoryTransport(),
      source: 'guard-test',
      logger: silentLogger,
      hooks: { onDeadLetter: (entry) => void dead.push(entry.error.name) },
    })
    await guard.subscribe(
      bus,
      'guard.poison',
      () => {
        calls++
        throw new HandlerError('bad input', { retryable: false })
      },
      { retry },
    )
    for (let i = 0; i < 4; i++) await bus.publish('guard.poison', { type: 't' })
    await waitUntil(() => dead.length === 4, { timeoutMs: 5_000, message: 'four dead letters' })
    expect(calls).toBe(4)
    expect(guard.state).toBe('closed')
  })

  it("handler guard - a CircuitOpenError thrown by the handler (another breaker's) is the handler's failure, not a refusal", async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } })
    let calls = 0
    await guard.subscribe(
      bus,
      'guard.nested',
      () => {
        calls++
        throw new CircuitOpenError('downstream breaker open', {
          retryAfterMs: 10,
          breaker: 'other',
        })
      },
      { retry },
    )
    await bus.publish('guard.nested', { type: 't' })
    await waitUntil(() => guard.state === 'open', { timeoutMs: 5_000, message: 'open' })
    expect(calls).toBe(3)
  })

  it('handler guard - wraps routes, and attach() pauses a subscription that joins while open', async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 1, halfOpenAfterMs: 300 } })
    const seen: string[] = []
    let failing = true
    await guard.subscribe(
      bus,
      'guard.routes',
      {
        'a.*': (event) => {
          if (failing) throw new Error('down')
          seen.push(event.type)
        },
        default: (event) => void seen.push(event.type),
      },
      { retry },
    )
    await bus.publish('guard.routes', { type: 'a.one' })
    await waitUntil(() => guard.state === 'open', { timeoutMs: 5_000, message: 'open' })
    const late = guard.attach(
      await bus.subscribe(
        'guard.late',
        guard.wrap((e) => void seen.push(e.type)),
      ),
    )
    await bus.publish('guard.late', { type: 'late' })
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Paused: its event is held, no handler started while the breaker is open.
    expect(guard.state).toBe('open')
    expect(late.stats().inFlight).toBe(0)
    failing = false
    await waitUntil(() => seen.includes('a.one') && seen.includes('late'), {
      timeoutMs: 5_000,
      message: 'both handled after the probe',
    })
    expect(guard.state).toBe('closed')
    await late.close()
  })

  it('handler guard - sampling breaker opens on the failed share of calls', async () => {
    newBus()
    const guard = handlerGuard({
      breaker: {
        sampling: { threshold: 0.5, durationMs: 5_000, minimumRps: 1 },
        halfOpenAfterMs: 60_000,
      },
    })
    let n = 0
    await guard.subscribe(
      bus,
      'guard.sampling',
      () => {
        if (n++ % 4 !== 0) throw new Error('mostly down')
      },
      { retry: { maxAttempts: 1 }, deadLetter: false },
    )
    for (let i = 0; i < 40 && guard.state === 'closed'; i++) {
      await bus.publish('guard.sampling', { type: 't' })
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(guard.state).toBe('open')
  })

  it('handler guard - options are checked and named', () => {
    expect(() => handlerGuard({ timeoutMs: 0 })).toThrow(/handlerGuard.timeoutMs/)
    expect(() =>
      handlerGuard({
        breaker: { consecutiveFailures: 2, sampling: { threshold: 0.5, durationMs: 1_000 } },
      }),
    ).toThrow(ConfigurationError)
    expect(() => handlerGuard({ breaker: { halfOpenAfter: 5 } as never })).toThrow(
      /handlerGuard.breaker.halfOpenAfter/,
    )
    expect(() => handlerGuard({ rateLimit: { perSecond: 5, mode: 'fail' } as never })).toThrow(
      /handlerGuard.rateLimit.mode/,
    )
    expect(() => handlerGuard({ retries: 3 } as never)).toThrow(
      /Unknown option handlerGuard.retries/,
    )
  })
})

describe('handler guard - odd throws', () => {
  it('handler guard - a handler throwing null (not an Error) still counts as a failure', async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } })
    await guard.subscribe(
      bus,
      'guard.odd',
      (event) => {
        throw event.type === 'null' ? null : 'plain string'
      },
      { retry },
    )
    await bus.publish('guard.odd', { type: 'null' })
    await waitUntil(() => guard.state === 'open', { timeoutMs: 5_000, message: 'open' })
  })
})

describe('handler guard - concurrency', () => {
  it('handler guard - with concurrency 4 and keyed lanes, held events wait out the open breaker, one probe closes it, all are handled once', async () => {
    newBus()
    const guard = handlerGuard({ breaker: { consecutiveFailures: 4, halfOpenAfterMs: 200 } })
    let failing = true
    let inProbe = 0
    let maxInProbe = 0
    const handled = new Map<string, number>()
    await guard.subscribe(
      bus,
      'guard.concurrent',
      async (event) => {
        if (guard.state === 'half-open') {
          inProbe++
          maxInProbe = Math.max(maxInProbe, inProbe)
          await new Promise((resolve) => setTimeout(resolve, 20))
          inProbe--
          failing = false
        }
        if (failing) throw new Error('down')
        handled.set(event.id, (handled.get(event.id) ?? 0) + 1)
      },
      { concurrency: 4, retry },
    )
    const ids: string[] = []
    for (let i = 0; i < 24; i++) {
      ids.push((await bus.publish('guard.concurrent', { type: 't', partitionkey: `k${i % 6}` })).id)
    }
    await waitUntil(() => handled.size === ids.length, {
      timeoutMs: 10_000,
      message: 'every event handled',
      describe: () => `${handled.size} of ${ids.length}, state ${guard.state}`,
    })
    expect([...handled.values()].every((n) => n === 1)).toBe(true)
    expect(guard.state).toBe('closed')
    // Half-open lets exactly one call through; the others waited for its outcome.
    expect(maxInProbe).toBe(1)
  })
})
