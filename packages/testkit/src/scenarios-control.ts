import { ConfigurationError } from '@switchyard/core'
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

/** `bus.seek`: moving an existing group back by time, forward to the latest, and its refusals. */
export function seekScenarios(h: Harness): void {
  it('seek - an existing group goes back to a time and forward to latest; refused while open here and for an unknown group', async (ctx) => {
    const topic = await h.topic('seek')
    const bus = await h.bus()
    if (bus.transport.seek === undefined) return ctx.skip(`${h.name} has no Transport.seek`)
    const got: number[] = []
    const handler = (e: { data?: unknown }) => void got.push((e.data as { i: number }).i)
    const options = { group: 'seek', startAt: 'earliest' as const }
    // One key: one partition where the broker has them.
    const publish = (i: number) =>
      bus.publish(topic, { type: 'tick', partitionkey: 'seek', data: { i } })
    let sub = await bus.subscribe(topic, handler, options)
    for (let i = 0; i < 5; i++) await publish(i)
    await h.until(() => got.length === 5, 'the first 5 events')
    await pause(200)
    const middle = Date.now()
    await pause(200)
    for (let i = 5; i < 10; i++) await publish(i)
    await h.until(() => got.length === 10, 'all 10 events')
    await expect(bus.seek(topic, 'seek', 'earliest')).rejects.toThrow(/close that subscription/)
    await sub.close()

    got.length = 0
    await bus.seek(topic, 'seek', { time: middle })
    sub = await bus.subscribe(topic, handler, options)
    await h.until(() => got.length === 5, 'the 5 events after the time')
    await h.settle(() => got.length)
    expect(got).toEqual([5, 6, 7, 8, 9])
    await sub.close()

    got.length = 0
    await bus.seek(topic, 'seek', 'latest')
    await publish(10)
    sub = await bus.subscribe(topic, handler, options)
    await h.until(() => got.length === 1, 'the event after the seek to latest')
    await h.settle(() => got.length)
    expect(got).toEqual([10])
    await sub.close()

    await expect(bus.seek(topic, 'never-subscribed', 'earliest')).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    await expect(bus.seek(topic, 'seek', 'yesterday' as never)).rejects.toBeInstanceOf(
      ConfigurationError,
    )
  })
}
