import { memoryTransport } from '@switchyard/adapter-memory'
import {
  ConfigurationError,
  createEventBus,
  MessagesLostError,
  type SwitchyardError,
} from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { describe, expect, it } from 'vitest'
import { points, testSdk, until } from '../test/sdk.js'
import { METRIC } from './conventions.js'
import { otelHooks } from './otel-hooks.js'

/** A memory transport whose subscriptions report, at their first pull, that the broker dropped 7 messages. */
function losing(): Transport {
  const inner = memoryTransport()
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== 'subscribe') return Reflect.get(target, key, receiver)
      return async (topic: string, options: Parameters<Transport['subscribe']>[1]) => {
        const sub = await target.subscribe(topic, options)
        let reported = false
        return new Proxy(sub, {
          get(s, k, r) {
            if (k !== 'pull') return Reflect.get(s, k, r)
            return (...args: Parameters<typeof sub.pull>) => {
              if (reported) return sub.pull(...args)
              reported = true
              const lost = new MessagesLostError('7 messages expired unread', {
                count: 7,
                stream: topic,
                group: options.group,
              })
              args[3](lost)
            }
          },
        })
      }
    },
  })
}

describe('otelHooks', () => {
  it('hooks - messages the broker lost are counted by stream and group, every reported error by type', async () => {
    const sdk = testSdk()
    const seen: SwitchyardError[] = []
    const bus = createEventBus({
      transport: losing(),
      source: 'hr',
      hooks: otelHooks({
        meterProvider: sdk.meterProvider,
        next: { onError: (error) => void seen.push(error as SwitchyardError) },
      }),
    })
    await bus.subscribe('employees', () => undefined, { group: 'payroll' })
    await until(() => seen.length === 1, 5_000, 'the loss reported to onError')
    await bus.close()
    const exported = await sdk.metrics()
    expect(points(exported, METRIC.lostMessages)).toEqual([
      expect.objectContaining({
        attributes: {
          'messaging.destination.name': 'employees',
          'messaging.consumer.group.name': 'payroll',
        },
        value: 7,
      }),
    ])
    expect(points(exported, METRIC.busErrors)).toEqual([
      expect.objectContaining({ attributes: { 'error.type': 'MessagesLostError' }, value: 1 }),
    ])
    // The user's own hook still hears of it.
    expect(seen[0]).toBeInstanceOf(MessagesLostError)
  })

  it('hooks - an unknown option is a ConfigurationError naming it', () => {
    expect(() => otelHooks({ meter: 1 } as never)).toThrow(ConfigurationError)
    expect(() => otelHooks({ meter: 1 } as never)).toThrow(/otelHooks\.meter/)
  })
})
