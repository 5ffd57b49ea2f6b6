import { ClosedError, type DeadLetterRecord, type Subscription } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, pause } from './harness.js'
import { waitUntil } from './wait.js'

/** When `close()` is called relative to a `subscribe()` that is under way. */
const MOMENTS: ReadonlyArray<[string, () => Promise<unknown>]> = [
  ['in the same turn', () => Promise.resolve()],
  ['after a microtask', () => Promise.resolve().then(() => undefined)],
  ['after an I/O turn', () => new Promise((resolve) => setImmediate(resolve))],
  ['after 5 ms', () => pause(5)],
  ['after 25 ms', () => pause(25)],
]

/** Races between closing and the calls under way, and handler outcomes that are hard to settle. */
export function raceScenarios(h: Harness): void {
  it('close wins a race with subscribe - the pending subscribe rejects with ClosedError, nothing keeps running', async () => {
    const topic = await h.topic('close-race')
    const producer = await h.bus()
    let handled = 0
    for (const [moment, wait] of MOMENTS) {
      for (const connected of [false, true]) {
        const errors: string[] = []
        const options = {
          hooks: { onError: (e: Error, where: string) => errors.push(`${where}: ${e.message}`) },
        }
        const bus = connected ? await h.bus(options) : await h.unconnectedBus(options)
        const subscribing = bus.subscribe(topic, () => void handled++, { group: 'race' })
        // Observed at once, so an early rejection is never unhandled.
        const outcome = subscribing.then(
          (subscription): Subscription | Error => subscription,
          (error: Error) => error,
        )
        await wait()
        await bus.close()
        const result = await outcome
        const where = `close ${moment}, ${connected ? 'connected' : 'not yet connected'}`
        if (result instanceof Error) {
          expect(result, where).toBeInstanceOf(ClosedError)
        }
        // Whatever won, nothing of the bus reads any more and no error keeps coming.
        const before = errors.length
        await pause(300)
        expect(errors.slice(before), where).toEqual([])
      }
    }
    // A group member left running would take (some of) these.
    const after = handled
    await producer.publishBatch(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ type: 'conformance.race', data: { i } })),
    )
    await pause(500)
    expect(handled - after).toBe(0)
  }, 60_000)

  it('hostile outcomes - throws and returns that cannot be inspected are dead-lettered readably, the key goes on', async () => {
    const topic = await h.topic('hostile')
    const bus = await h.bus()
    const hostile: Array<() => unknown> = [
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {})
        revoke()
        throw proxy
      },
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {})
        revoke()
        return proxy
      },
      () => {
        throw {
          toString() {
            throw new Error('no string')
          },
        }
      },
      () => {
        const circular: Record<string, unknown> = { order: 'o-1' }
        circular.self = circular
        throw circular
      },
    ]
    const handled: number[] = []
    const subscription = await bus.subscribe(
      topic,
      (event) => {
        const n = (event.data as { n: number }).n
        if (n < hostile.length) return hostile[n]!()
        handled.push(n)
      },
      { group: 'hostile', retry: { maxAttempts: 1 } },
    )
    const key = 'order-1'
    for (let n = 0; n < hostile.length + 2; n++) {
      await bus.publish(topic, { type: 'conformance.hostile', partitionkey: key, data: { n } })
    }
    await h.until(() => handled.length >= 2, 'the 2 ordinary events after the hostile ones')
    let entries: DeadLetterRecord[] = []
    await waitUntil(
      async () => {
        entries = await bus.deadLetters.list(`${topic}.dlq`)
        return entries.length >= hostile.length
      },
      { timeoutMs: h.timeoutMs, intervalMs: 200, message: `${hostile.length} dead letters` },
    )
    const reasons = entries.map((e) => `${e.error.name}: ${e.error.message} (${e.reason})`)
    expect(entries.length, reasons.join('\n')).toBe(hostile.length)
    // Thrown values become HandlerErrors; a revoked proxy returned fails when it is looked at.
    expect(entries.map((e) => e.error.name).sort()).toEqual([
      'HandlerError',
      'HandlerError',
      'HandlerError',
      'TypeError',
    ])
    expect(reasons.join('\n')).toContain("order: 'o-1'")
    expect(reasons.join('\n')).not.toContain('[object Object]')
    // Every one was settled: a new member of the group gets only what comes next.
    await subscription.close()
    const again: string[] = []
    await (await h.bus()).subscribe(topic, (event) => void again.push(event.id), {
      group: 'hostile',
    })
    const marker = await bus.publish(topic, { type: 'conformance.marker', partitionkey: key })
    await h.until(() => again.includes(marker.id), 'the marker at a new member')
    await h.settle(() => again.length)
    expect(again).toEqual([marker.id])
  })
}
