import { describe, expect, it } from 'vitest'
import { ConfigurationError } from './errors.js'
import { checkTopicSettings } from './topic-settings.js'
import { createTopicOn } from './topics.js'
import type { Transport } from './transport.js'

const bare = { name: 'bare' } as Transport

describe('topics', () => {
  it('topics - settings are checked: unknown keys, ranges and enumerations', () => {
    expect(checkTopicSettings({ partitions: 3, retentionMs: undefined })).toEqual({ partitions: 3 })
    const refused = (settings: object) => () => checkTopicSettings(settings as never)
    expect(refused({ partition: 3 })).toThrow(/Unknown option settings.partition/)
    expect(refused({ partitions: 1.5 })).toThrow(/settings.partitions must be an integer/)
    expect(refused({ retentionMs: -1 })).toThrow(ConfigurationError)
    expect(refused({ cleanupPolicy: 'archive' })).toThrow(/must be one of delete, compact/)
  })

  it('topics - a transport without broker-side topics creates nothing and reports every setting ignored', async () => {
    await expect(
      createTopicOn(bare, 'orders', { partitions: 2, retentionMs: 10 }),
    ).resolves.toEqual({
      topic: 'orders',
      created: false,
      applied: [],
      ignored: ['partitions', 'retentionMs'],
    })
    await expect(createTopicOn(bare, 'bad topic', {})).rejects.toThrow(/Invalid topic/)
  })

  it('topics - what the transport did not apply is reported as ignored', async () => {
    const transport = {
      name: 'some',
      createTopic: async () => ({ created: true, applied: ['retentionMs' as const] }),
    } as unknown as Transport
    await expect(
      createTopicOn(transport, 'orders', { retentionMs: 5, partitions: 2 }),
    ).resolves.toEqual({
      topic: 'orders',
      created: true,
      applied: ['retentionMs'],
      ignored: ['partitions'],
    })
  })
})
