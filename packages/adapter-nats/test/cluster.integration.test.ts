import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createEventBus, type EventBus, exponential, type Logger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { describe, expect, it } from 'vitest'
import { natsTransport } from '../src/index.js'
import { serverBinary } from './nats-server.js'

// A three-node cluster of the test's own (tooling/cluster/nats.sh), streams with replicas 3:
// the node leading the topic's stream is SIGKILLed a third of the way into 10 000 events; the
// other two go on storing and delivering (checked before the node returns), and it is brought
// back on its store two thirds of the way in.
const run = promisify(execFile)
const SCRIPT = new URL('../../../tooling/cluster/nats.sh', import.meta.url).pathname

/** Runs the script on a cluster of its own: a new state directory per call of this function. */
function ownCluster(): (...args: string[]) => Promise<string> {
  const env = {
    ...process.env,
    CLUSTER_DIR: mkdtempSync(join(tmpdir(), 'sy-nats-cluster-')),
    CLUSTER_WAIT_SECONDS: '150',
  }
  return (...args) =>
    run('bash', [SCRIPT, ...args], { env, timeout: 200_000 }).then(({ stdout }) => stdout.trim())
}

const skip = await serviceOrSkip('nats-server binary', async () => {
  if (spawnSync(serverBinary(), ['--version']).status !== 0)
    throw new Error(`${serverBinary()} does not run`)
})

const EVENTS = 10_000
// The bus rides out a failover itself: up to 10 attempts over about 11 s (the default, 3 attempts
// over 0.3 s, gives up while a new leader is being chosen).
const FAILOVER_RETRY = { maxAttempts: 10, backoff: exponential({ baseMs: 100, maxMs: 2_000 }) }
const BATCH = 100

/** The server name (`n1`..`n3`) leading the replicas of the one stream named `prefix`... */
async function streamLeader(servers: string, prefix: string): Promise<string> {
  const nc = await connect({ servers: servers.split(','), timeout: 5_000 })
  try {
    const jsm = await jetstreamManager(nc)
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(prefix)) continue
      const leader = (await jsm.streams.info(name)).cluster?.leader
      if (leader !== undefined) return leader
    }
    throw new Error(`no stream named ${prefix}... has a leader`)
  } finally {
    await nc.close()
  }
}

describe.skipIf(skip !== undefined)('nats adapter (3-node cluster)', () => {
  it('cluster - the stream leader SIGKILLed mid-stream of 10 000 events and brought back: none lost', async () => {
    const cluster = ownCluster()
    let servers = ''
    const prefix = `SYC_${Math.random().toString(36).slice(2, 8)}_`
    const make = () =>
      natsTransport({
        servers,
        autoStreams: { prefix, replicas: 3 },
        reconnectTimeWaitMs: 100,
        ackWaitMs: 5_000,
      })
    const buses: EventBus[] = []
    // What the buses and transports log (retries, reconnects) is counted and summed up, not printed.
    const warnings: string[] = []
    const note = (_fields: Record<string, unknown>, message = '') => void warnings.push(message)
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: note,
      error: note,
    }
    const bus = async () => {
      const b = createEventBus({
        source: 'cluster-test',
        transport: make(),
        logger,
        publishRetry: FAILOVER_RETRY,
      })
      buses.push(b)
      await b.connect()
      return b
    }
    try {
      servers = await cluster('start')
      const topic = 'cluster.events'
      const producer = await bus()
      const consumer = await bus()
      const seen = new Set<string>()
      let deliveries = 0
      await consumer.subscribe(
        topic,
        (event) => {
          deliveries++
          seen.add(event.id)
        },
        { group: 'cluster', concurrency: 16, retry: { maxAttempts: 100 } },
      )
      const sent: string[] = []
      let publishRetries = 0
      let victim = ''
      let revived: Promise<unknown> = Promise.resolve()
      const started = Date.now()
      for (let batch = 0; batch < EVENTS / BATCH; batch++) {
        if (batch === 33) {
          victim = await streamLeader(servers, prefix)
          await cluster('kill', victim.slice(1))
        }
        if (batch === 66) {
          // Two nodes carry the stream on their own: all sent so far arrives before the third is back.
          await waitUntil(() => sent.every((id) => seen.has(id)), {
            timeoutMs: 90_000,
            message: `the events published while ${victim} was down, delivered by the other two`,
            describe: () =>
              `${sent.filter((id) => !seen.has(id)).length} of ${sent.length} missing`,
          })
          // Not awaited: publishing goes on while the node starts again.
          revived = cluster('start')
        }
        const events = Array.from({ length: BATCH }, (_, i) => ({
          type: 'cluster.event',
          id: `${topic}-${batch}-${i}`,
          data: { batch, i },
        }))
        for (;;) {
          try {
            await producer.publishBatch(topic, events)
            break
          } catch {
            // No quorum for a moment: a real service retries; Nats-Msg-Id makes it idempotent.
            publishRetries++
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
        sent.push(...events.map((e) => e.id))
      }
      await revived
      await waitUntil(() => seen.size >= EVENTS, {
        timeoutMs: 90_000,
        message: `${EVENTS} events through a node loss`,
        describe: () => `${seen.size} of ${EVENTS} seen`,
      })
      const lost = sent.filter((id) => !seen.has(id)).length
      const duplicates = deliveries - seen.size
      console.info(
        `[cluster:nats] ${EVENTS} events, stream leader ${victim} SIGKILLed at 1/3 and back at 2/3: lost ${lost}, duplicates ${duplicates}, publish retries ${publishRetries}, ${Date.now() - started} ms; ${warnings.length} warnings logged${warnings.length > 0 ? `, the first: ${warnings[0]}` : ''}`,
      )
      expect(lost).toBe(0)
      expect(seen).toEqual(new Set(sent))
    } finally {
      await Promise.allSettled(buses.map((b) => b.close({ timeoutMs: 5_000 })))
      await cluster('destroy')
    }
  }, 240_000)
})
