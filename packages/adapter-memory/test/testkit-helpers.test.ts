import { createEventBus } from '@switchyard/core'
import { createTestBus, recordEvents, waitFor, waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryTransport } from '../src/index.js'

// The testkit's user-facing helpers, on the transport users' unit tests run on.
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

describe('testkit helpers', () => {
  it('testkit - createTestBus records every publish, by topic and type, and forgets on clear', async () => {
    const bus = createTestBus({ transport: memoryTransport(), source: 'hr' })
    closers.push(() => bus.close())
    await bus.publish('employees', { type: 'employee.created', data: { id: 1 } })
    await bus.publishBatch('employees', [
      { type: 'employee.updated' },
      { type: 'employee.created' },
    ])
    await bus.publish('leave', { type: 'leave.created' })
    expect(bus.published.map((r) => `${r.topic}:${r.event.type}`)).toEqual([
      'employees:employee.created',
      'employees:employee.updated',
      'employees:employee.created',
      'leave:leave.created',
    ])
    expect(bus.publishedTo('employees', 'employee.created')).toHaveLength(2)
    expect(bus.publishedTo('employees')).toHaveLength(3)
    expect(bus.publishedTo('employees')[0]).toMatchObject({ source: 'hr', data: { id: 1 } })
    bus.clearPublished()
    expect(bus.published).toHaveLength(0)
  })

  it('testkit - a refused publish is not recorded', async () => {
    const transport = memoryTransport()
    const bus = createTestBus({ transport, source: 'hr', publishRetry: false })
    closers.push(() => bus.close())
    transport.faults.failNextPublishes(1)
    await expect(bus.publish('employees', { type: 'x' })).rejects.toThrow()
    expect(bus.published).toHaveLength(0)
  })

  it('testkit - waitFor finds an event published before the call, and one published after', async () => {
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr' })
    closers.push(() => bus.close())
    await bus.publish('mail', { type: 'user.welcome', subject: 'ada' })
    const early = await waitFor(bus, 'mail', (e) => e.type === 'user.welcome')
    expect(early.subject).toBe('ada')
    const later = waitFor(bus, 'mail', (e) => e.subject === 'grace', { startAt: 'latest' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    await bus.publish('mail', { type: 'user.welcome', subject: 'grace' })
    expect((await later).subject).toBe('grace')
  })

  it('testkit - waitFor fails within its timeout when nothing matches', async () => {
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr' })
    closers.push(() => bus.close())
    await bus.publish('mail', { type: 'other' })
    const started = Date.now()
    await expect(
      waitFor(bus, 'mail', (e) => e.type === 'user.welcome', { timeoutMs: 150 }),
    ).rejects.toThrow('a matching event on "mail"')
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('testkit - recordEvents sees only what comes after it attached, in order', async () => {
    const bus = createEventBus({ transport: memoryTransport(), source: 'hr' })
    closers.push(() => bus.close())
    await bus.publish('audit', { type: 'before' })
    const recorder = await recordEvents(bus, 'audit')
    closers.push(() => recorder.close())
    for (const type of ['a', 'b', 'c']) await bus.publish('audit', { type })
    expect((await recorder.waitFor((e) => e.type === 'c')).type).toBe('c')
    expect(recorder.events.map((e) => e.type)).toEqual(['a', 'b', 'c'])
    await expect(recorder.waitFor((e) => e.type === 'before', 100)).rejects.toThrow()
  })

  it('testkit - waitUntil fails with its description once the deadline passes', async () => {
    let checks = 0
    await expect(
      waitUntil(() => ++checks < 0, { timeoutMs: 50, message: 'never', describe: () => 'n' }),
    ).rejects.toThrow('never')
    expect(checks).toBeGreaterThan(1)
  })
})
