import { describe, expect, it } from 'vitest'
import type { AdminLike } from './client.js'
import { createKafkaTopic, topicPartitions } from './topics.js'

const defaults = { partitions: 3, replicationFactor: 1, createTopics: true }

/** An admin whose CreateTopics fails with the broker's per-topic answers, as kafkajs reports them. */
function admin(creation: () => Promise<boolean>): AdminLike {
  return {
    createTopics: creation,
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => ({
      topics: topics.map((name) => ({
        name,
        partitions: [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1 })),
      })),
    }),
  } as unknown as AdminLike
}

const aggregate = (...types: string[]) =>
  Object.assign(new Error('Topic creation errors'), {
    name: 'KafkaJSAggregateError',
    errors: types.map((type) => Object.assign(new Error(type), { type })),
  })

describe('topic creation', () => {
  it('takes "already exists" as not created and a controller timeout as created, then waits for the metadata', async () => {
    const exists = admin(async () => {
      throw aggregate('TOPIC_ALREADY_EXISTS')
    })
    await expect(createKafkaTopic(exists, 't', {}, defaults)).resolves.toEqual({
      created: false,
      applied: [],
    })
    const slow = admin(async () => {
      throw aggregate('REQUEST_TIMED_OUT')
    })
    await expect(createKafkaTopic(slow, 't', { partitions: 3 }, defaults)).resolves.toEqual({
      created: true,
      applied: ['partitions'],
    })
    await expect(topicPartitions(slow, 't', defaults, true)).resolves.toBe(3)
  })

  it('throws any other refusal', async () => {
    const refused = admin(async () => {
      throw aggregate('INVALID_REPLICATION_FACTOR')
    })
    await expect(createKafkaTopic(refused, 't', {}, defaults)).rejects.toThrow(
      'Topic creation errors',
    )
  })
})
