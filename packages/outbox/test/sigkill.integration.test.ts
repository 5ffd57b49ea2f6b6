import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { memoryTransport } from '@switchyard/adapter-memory'
import { dedup } from '@switchyard/core'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enqueue, migrate, pgDriver } from '../src/index.js'
import {
  count,
  dropOutbox,
  expectOrderedOnce,
  harness,
  numbered,
  POSTGRES_URL,
  postgresOrSkip,
  uniqueTable,
  waitFor,
} from './support.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const outDir = fileURLToPath(new URL('../.cache/child/', import.meta.url))
const ROWS = 2_000
const BATCH = 100

interface WireMessage {
  headers: Record<string, string>
  key: string | undefined
  body: string
}

describe('postgres faults', () => {
  let skip: string | undefined
  const driver = pgDriver({ connectionString: POSTGRES_URL, max: 2 })
  const children: ChildProcess[] = []

  beforeAll(async () => {
    skip = await postgresOrSkip()
    if (skip) return
    // The child runs outside vitest, so bundle it (with core and outbox from source) first.
    await build({
      entry: { 'relay-child': `${here}fixtures/relay-child.ts` },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      noExternal: [/^@switchyard\//],
      external: ['pg'],
      config: false,
      silent: true,
      esbuildOptions(options) {
        options.conditions = ['@switchyard/source']
      },
    })
  }, 120_000)

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await driver.close()
  })

  it('sigkill - a relay killed between publish and mark-sent is covered by another; dedup handles each once', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const table = uniqueTable()
    await migrate(driver, { table })
    await enqueue(
      driver,
      'orders',
      numbered(ROWS, (i) => `k${i % 20}`),
      { source: 'shop', table },
    )
    const h = await harness(['orders'], [dedup()])
    const broker = memoryTransport({ broker: h.broker, maxQueueSize: 1_000_000, historySize: 0 })
    const forwarded = new Map<string, number>()
    let stalledIds: string[] = []
    let lastIds: string[] = []

    const start = (env: Record<string, string>) => {
      const child = fork(`${outDir}relay-child.js`, [], {
        env: {
          ...process.env,
          OUTBOX_URL: POSTGRES_URL,
          OUTBOX_TABLE: table,
          OUTBOX_BATCH: String(BATCH),
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      children.push(child)
      const events = { ready: false, stalled: false, exited: false }
      child.on('exit', () => {
        events.exited = true
      })
      child.on(
        'message',
        (m: { type: string; id: number; topic: string; messages: WireMessage[] }) => {
          if (m.type === 'ready') events.ready = true
          if (m.type === 'stalled') {
            stalledIds = lastIds
            events.stalled = true
          }
          if (m.type !== 'publish') return
          const messages = m.messages.map((w) => ({
            id: w.headers.ce_id!,
            key: w.key,
            headers: w.headers,
            body: new Uint8Array(Buffer.from(w.body, 'base64')),
          }))
          lastIds = messages.map((x) => x.id)
          for (const id of lastIds) forwarded.set(id, (forwarded.get(id) ?? 0) + 1)
          void broker
            .publish(m.topic, messages)
            .then(() => child.connected && child.send({ type: 'ack', id: m.id }))
        },
      )
      return { child, events }
    }

    const first = start({ OUTBOX_STALL_AFTER: '3' })
    await waitFor(
      () => first.events.stalled,
      'the first relay to stall after its third publish',
      30_000,
    )
    expect(stalledIds).toHaveLength(BATCH)
    first.child.kill('SIGKILL')
    await waitFor(() => first.events.exited, 'the killed relay to exit')
    // The broker has the stalled batch, the outbox does not know it was sent.
    const pendingOf = (ids: string[]) =>
      count(
        driver,
        `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL AND id IN (${ids.map((i) => `'${i}'`).join(',')})`,
      )
    expect(await pendingOf(stalledIds)).toBe(BATCH)

    const second = start({})
    await waitFor(() => h.counts.size === ROWS, `${ROWS} handled events`, 60_000)
    await waitFor(
      async () =>
        (await count(driver, `SELECT count(*) AS n FROM ${table} WHERE sent_at IS NULL`)) === 0,
      'the outbox to drain',
    )
    second.child.send({ type: 'stop' })
    await waitFor(() => second.events.exited, 'the second relay to stop')
    expect(second.child.exitCode).toBe(0)

    // At-least-once at the broker: the stalled batch went out twice, nothing else did.
    expect(stalledIds.every((id) => forwarded.get(id) === 2)).toBe(true)
    expect([...forwarded.values()].reduce((a, b) => a + b, 0)).toBe(ROWS + BATCH)
    // Effectively-once at the consumer: 0 lost, 0 handled twice, keys in order.
    expect([...h.counts.values()].every((n) => n === 1)).toBe(true)
    expectOrderedOnce(h, ROWS)
    await h.close()
    await dropOutbox(driver, table)
  })
})
