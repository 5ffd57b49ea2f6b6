import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createEventBus, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { fromEnv, natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe } from './nats-server.js'

// Anumate's example environment (tooling/seed-env/fixtures, copied from its README) on a real
// server: STREAM_NAME and DEAD_LETTER_STREAM without subjects used to fail at connect.
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const word = `seedenv${Math.random().toString(36).slice(2, 8)}`
const NAME = word.toUpperCase()

function anumateEnv(): Record<string, string> {
  const file = join(import.meta.dirname, '../../../tooling/seed-env/fixtures/anumate.env')
  const env: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/u.exec(line.trim())
    if (match) env[match[1]!] = match[2]!
  }
  // Refused on its own (a NATS Streaming setting); the names are made unique to this run.
  delete env.NATS_CLUSTER_ID
  return {
    ...env,
    NATS_URL,
    STREAM_NAME: env.STREAM_NAME!.replace('ANUMATE', NAME),
    DEAD_LETTER_STREAM: env.DEAD_LETTER_STREAM!.replace('ANUMATE', NAME),
    EVENTS_RETRY_BACKOFF_MS: '10',
  }
}

afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, NAME)
})

describe.skipIf(skip !== undefined)('nats seed env', () => {
  it("seed env - Anumate's stream variables without subjects: events and dead letters land in their two streams", async () => {
    const env = anumateEnv()
    expect(env.STREAM_NAME).toBe(`${NAME}_EVENTS`)
    const bus = createEventBus({
      transport: natsTransport(fromEnv(env)),
      source: 'registry',
      logger: silentLogger,
    })
    const handled: string[] = []
    try {
      await bus.subscribe(
        `${word}.capsules`,
        (event) => {
          if (event.type === 'com.anumate.capsule.deleted') throw new Error('refused')
          handled.push(event.type)
        },
        { group: 'policy' },
      )
      await bus.publish(`${word}.capsules`, { type: 'com.anumate.capsule.created', data: {} })
      await bus.publish(`${word}.capsules`, { type: 'com.anumate.capsule.deleted', data: {} })
      const nc = await connect({ servers: NATS_URL })
      try {
        const jsm = await jetstreamManager(nc)
        const count = async (name: string) => (await jsm.streams.info(name)).state.messages
        // MAX_DELIVER_ATTEMPTS=5: four retries, then the dead letter.
        await waitUntil(async () => (await count(`${NAME}_DEAD_LETTERS`)) === 1, {
          timeoutMs: 20_000,
        })
        expect(handled).toEqual(['com.anumate.capsule.created'])
        const events = await jsm.streams.info(`${NAME}_EVENTS`)
        expect(events.config.subjects).toEqual([`${word}.*`])
        expect(events.config.max_msgs).toBe(1_000_000)
        expect(events.state.messages).toBe(2)
        const dead = await jsm.streams.info(`${NAME}_DEAD_LETTERS`)
        expect(dead.config.subjects).toEqual([`${word}.*.dlq`])
      } finally {
        await nc.close()
      }
    } finally {
      await bus.close({ timeoutMs: 500 })
    }
  })
})
