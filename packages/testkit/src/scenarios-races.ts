import { ClosedError, type Subscription } from '@switchyard/core'
import { expect, it } from 'vitest'
import { type Harness, pause } from './harness.js'

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
}
