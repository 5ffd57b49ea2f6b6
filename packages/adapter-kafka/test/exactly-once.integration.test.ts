import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import { createEventBus, silentLogger } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import type { Consumer } from 'kafkajs'
import { afterAll, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { buildFixture } from './fixtures/build-consumer.js'
import { BROKERS, createTopics, FAST, probe, rawClient } from './helpers.js'

const skip = await serviceOrSkip('Kafka', () => probe())
const INPUTS = 10_000

/** A processor process and the count of events it reported handled. */
function startProcessor(script: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const state = { handled: 0 }
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`processor exited early (${code})`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const report = JSON.parse(line) as { ready?: boolean; handled?: number }
        if (report.ready === true) resolve()
        if (report.handled !== undefined) state.handled = report.handled
      } catch {
        // A stray log line.
      }
    })
  })
  ready.catch(() => undefined)
  const kill = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  return { ready, state, kill }
}

/** Reads every record of `topic` from the start with the given isolation, counting each `n`. */
async function readOutput(topic: string, readUncommitted: boolean) {
  const counts = new Map<number, number>()
  let records = 0
  const consumer: Consumer = rawClient().consumer({
    groupId: `eos-reader-${randomUUID()}`,
    readUncommitted,
    maxWaitTimeInMs: 100,
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      records++
      const n = (JSON.parse(message.value!.toString()) as { n: number }).n
      counts.set(n, (counts.get(n) ?? 0) + 1)
    },
  })
  return {
    counts,
    get records() {
      return records
    },
    stop: () => consumer.disconnect(),
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.skipIf(skip)('kafka exactly-once', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
  })

  it(`a processor SIGKILLed mid-transaction and restarted: the output read with read_committed holds each of ${INPUTS} results exactly once`, async () => {
    const id = randomUUID().slice(0, 8)
    const input = `eos-in-${id}`
    const output = `eos-out-${id}`
    await createTopics([input, output], 3)
    const script = await buildFixture('eos-processor')
    // Slow enough (16 at a time, 4 ms each) that the kill lands mid-stream, transactions running.
    const args = [BROKERS, input, output, `eos-${id}`, '4']

    const bus = createEventBus({
      source: 'eos-test',
      transport: kafkaTransport({ brokers: BROKERS, ...FAST }),
    })
    cleanup.push(() => bus.close())
    for (let start = 0; start < INPUTS; start += 1_000) {
      await bus.publishBatch(
        input,
        Array.from({ length: 1_000 }, (_, i) => ({
          type: 'eos.input',
          data: { n: start + i },
          partitionkey: `k${(start + i) % 64}`,
        })),
      )
    }

    const committed = await readOutput(output, false)
    const uncommitted = await readOutput(output, true)
    cleanup.push(committed.stop, uncommitted.stop)
    const first = startProcessor(script, args)
    cleanup.push(first.kill)
    await first.ready
    await until(() => first.state.handled >= 3_000, 'the first processor to handle 3 000 events')
    await first.kill()
    const killedAt = first.state.handled

    const second = startProcessor(script, args)
    cleanup.push(second.kill)
    await second.ready
    await until(() => committed.counts.size === INPUTS, `${INPUTS} distinct results`, 180_000)
    // Anything late (a duplicate) would arrive right behind: give it time to show.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const duplicates = [...committed.counts.values()].filter((c) => c > 1).length
    const lost = INPUTS - committed.counts.size
    console.info(
      `kafka exactly-once: killed after ${killedAt} handled; read_committed: ${committed.records} records, ${lost} lost, ${duplicates} duplicated; read_uncommitted saw ${uncommitted.records} records (aborted ones included)`,
    )
    expect(killedAt).toBeLessThan(INPUTS)
    expect(lost).toBe(0)
    expect(duplicates).toBe(0)
    expect(committed.records).toBe(INPUTS)
  }, 300_000)

  it('a dead letter committed in a transaction is listed at once (the commit marker after it is no record to wait for)', async () => {
    const id = randomUUID().slice(0, 8)
    const input = `eos-dl-${id}`
    await createTopics([input], 1)
    const bus = createEventBus({
      source: 'eos-test',
      transport: kafkaTransport({ brokers: BROKERS, ...FAST }),
      logger: silentLogger,
    })
    cleanup.push(() => bus.close())
    let failed = 0
    await bus.subscribe(
      input,
      () => {
        failed++
        throw new Error('cannot handle')
      },
      { group: `eos-dl-${id}`, delivery: 'exactly-once', retry: { maxAttempts: 1 } },
    )
    await bus.publish(input, { type: 'eos.input', data: { n: 1 } })
    const started = Date.now()
    let entries: Awaited<ReturnType<typeof bus.deadLetters.list>> = []
    while (entries.length === 0 && Date.now() - started < 30_000)
      entries = await bus.deadLetters.list(`${input}.dlq`)
    const listedAfter = Date.now() - started
    expect(failed).toBe(1)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.reason).toContain('1 attempt')
    // The last listing read up to the marker: well under the 30 s a wait for it would take.
    const once = Date.now()
    await bus.deadLetters.list(`${input}.dlq`)
    expect(Date.now() - once).toBeLessThan(10_000)
    console.info(`kafka exactly-once: dead letter listed ${listedAfter} ms after publishing`)
  }, 120_000)
})
