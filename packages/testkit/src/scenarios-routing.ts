import { ConfigurationError } from '@switchyard/core'
import { expect, it } from 'vitest'
import type { Harness } from './harness.js'

/** Routing by event type (Olive's `add_handler` / `set_default_handler`) and its guard. */
export function routingScenarios(h: Harness): void {
  it('routing - one subscription over two topics dispatches by type and default; a second filter in the group is refused', async () => {
    const hires = await h.topic('routing-hr')
    const leaves = await h.topic('routing-leave')
    const bus = await h.bus()
    const got: string[] = []
    const subs = await bus.subscribe(
      [hires, leaves],
      {
        'employee.created': (e) => void got.push(`hire:${e.type}`),
        'leave.*': (e) => void got.push(`leave:${e.type}`),
        default: (e) => void got.push(`other:${e.type}`),
      },
      { group: 'routing' },
    )
    expect(subs.subscriptions).toHaveLength(2)
    const types = ['employee.created', 'leave.requested', 'leave.approved', 'employee.deleted']
    for (let i = 0; i < 20; i++) {
      const type = types[i % types.length]!
      await bus.publish(type.startsWith('leave') ? leaves : hires, { type, data: { i } })
    }
    await h.until(
      () => got.length >= 20,
      '20 routed events',
      () => `${got.length} routed`,
    )
    await h.settle(() => got.length)
    const count = (label: string) => got.filter((g) => g === label).length
    expect(count('hire:employee.created')).toBe(5)
    expect(count('leave:leave.requested')).toBe(5)
    expect(count('leave:leave.approved')).toBe(5)
    expect(count('other:employee.deleted')).toBe(5)
    // The translation that lost half the events: members of one group with other filters.
    await bus.subscribe(hires, () => undefined, { group: 'split', types: 'employee.created' })
    await expect(
      bus.subscribe(hires, () => undefined, { group: 'split', types: 'leave.*' }),
    ).rejects.toBeInstanceOf(ConfigurationError)
    await expect(
      bus.subscribe(hires, () => undefined, { group: 'split', types: 'leave.*' }),
    ).rejects.toThrow(/routes/)
    // Competing members with the same filter stay allowed.
    await bus.subscribe(hires, () => undefined, { group: 'split', types: ['employee.created'] })
    await subs.close()
  })

  it('routing - without a default only routed types are taken; the rest are acknowledged and skipped', async () => {
    const topic = await h.topic('routing-nodefault')
    const bus = await h.bus()
    const got: string[] = []
    await bus.subscribe(topic, { 'a.*': (e) => void got.push(e.type) }, { group: 'nodefault' })
    for (const type of ['a.one', 'b.one', 'a.two', 'c']) await bus.publish(topic, { type })
    await h.until(() => got.length >= 2, 'the 2 routed events')
    await h.settle(() => got.length)
    expect(got.sort()).toEqual(['a.one', 'a.two'])
  })
}
