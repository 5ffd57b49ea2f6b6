import { expect, it } from 'vitest'
import { type Harness, pause } from './harness.js'

/** Steering a running subscription: pause and resume. */
export function controlScenarios(h: Harness): void {
  it('pause/resume - a paused subscription takes nothing new and keeps its membership; resume delivers the rest', async () => {
    const topic = await h.topic('pause')
    const bus = await h.bus()
    const got: number[] = []
    const sub = await bus.subscribe(topic, (e) => void got.push((e.data as { i: number }).i), {
      group: 'pause',
      startAt: 'earliest',
    })
    for (let i = 0; i < 5; i++) await bus.publish(topic, { type: 'tick', data: { i } })
    await h.until(() => got.length === 5, 'the first 5 events')
    sub.pause()
    // A pull already open may still bring what arrives first; nothing after that.
    for (let i = 5; i < 10; i++) await bus.publish(topic, { type: 'tick', data: { i } })
    await pause(300)
    const whilePaused = got.length
    await pause(700)
    expect(got.length).toBe(whilePaused)
    expect(whilePaused).toBeLessThan(10)
    if (bus.transport.inspect !== undefined) {
      const [t] = (await bus.inspect(topic)).topics
      const g = t!.groups.find((x) => x.group === 'pause')
      // Still a member of the group, with the rest waiting for it.
      expect(g).toBeDefined()
      expect((g!.lag ?? 0) + (g!.pending ?? 0)).toBeGreaterThanOrEqual(10 - whilePaused)
    }
    sub.resume()
    await h.until(() => got.length === 10, 'the other events after resume')
    await h.settle(() => got.length)
    expect([...got].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
}
