import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mintToken, openStateStore } from '../src/index.js'
import {
  byId,
  createStream,
  createSubscription,
  type Receiver,
  startReceiver,
  TEST_SUBSCRIPTIONS,
} from './subscriptions-support.js'
import { type RunningGateway, startGateway, transportOrSkip, uniqueStream } from './support.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const POSTGRES_URL =
  process.env.SWITCHYARD_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard'
const KEY_PREFIX = `sy-test-gwsubr-${randomBytes(4).toString('hex')}`
const TABLE_PREFIX = `sygwsub_${randomBytes(4).toString('hex')}`
const child = fileURLToPath(new URL('./subscriptions-child.mjs', import.meta.url))
const makeTransport = () =>
  redisTransport({ url: REDIS_URL, keyPrefix: KEY_PREFIX, connectTimeoutMs: 3_000 })

async function postgresOrSkip(): Promise<string | undefined> {
  return serviceOrSkip('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } finally {
      await client.end().catch(() => undefined)
    }
  })
}

describe('subscriptions across processes (Redis, PostgreSQL)', { timeout: 90_000 }, () => {
  let skip: string | undefined
  const receivers: Receiver[] = []
  const children: ChildProcess[] = []
  beforeAll(async () => {
    skip = (await transportOrSkip('Redis', makeTransport)) ?? (await postgresOrSkip())
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    for (const r of receivers) await r.close()
    if (skip !== undefined) return
    const client = new pg.Client({ connectionString: POSTGRES_URL })
    await client.connect()
    const { rows } = await client.query(
      `SELECT tablename FROM pg_tables WHERE tablename LIKE '${TABLE_PREFIX}%'`,
    )
    for (const row of rows) await client.query(`DROP TABLE IF EXISTS ${row.tablename}`)
    await client.end()
  })

  async function startChild(secret: string): Promise<{ process: ChildProcess; url: string }> {
    const proc = spawn(process.execPath, [child], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL,
        KEY_PREFIX,
        DATABASE_URL: POSTGRES_URL,
        TABLE_PREFIX,
        JWT_SECRET: secret,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    children.push(proc)
    const [line] = (await once(createInterface({ input: proc.stdout! }), 'line')) as [string]
    return { process: proc, url: (JSON.parse(line) as { url: string }).url }
  }

  test('restart - a gateway SIGKILLed mid-stream and started again loses no event', async ({
    skip: s,
  }) => {
    if (skip) return s(skip)
    const secret = randomBytes(32).toString('hex')
    const admin = await mintToken({ secret, roles: ['admin'] })
    const hook = await startReceiver()
    receivers.push(hook)
    // A slow receiver, so the stream is mid-flight when the gateway dies.
    hook.answer = () => new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 20))
    const first = await startChild(secret)
    const gw = { url: first.url } as RunningGateway
    const stream = uniqueStream('subr')
    await createStream(gw, admin, stream)
    await createSubscription(gw, admin, {
      subscription_name: 'restart',
      stream_id: stream,
      webhook_url: hook.url,
      concurrency: 4,
      retry_policy: { max_attempts: 10, initial_backoff_ms: 100, max_backoff_ms: 1000 },
    })
    const bus = createEventBus({ transport: makeTransport(), source: 'restart-test' })
    const ids: string[] = []
    try {
      for (let batch = 0; batch < 3; batch++) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          type: 'order.placed',
          data: { i },
        }))
        ids.push(...(await bus.publishBatch(stream, events)).map((e) => e.id))
      }
    } finally {
      await bus.close()
    }
    await waitUntil(() => byId(hook.received).size >= 50, { timeoutMs: 30_000 })
    first.process.kill('SIGKILL')
    await once(first.process, 'exit')
    const before = byId(hook.received).size
    expect(before).toBeLessThan(300)
    const second = await startChild(secret)
    await waitUntil(() => ids.every((id) => byId(hook.received).has(id)), {
      timeoutMs: 60_000,
      describe: () => `${ids.filter((id) => byId(hook.received).has(id)).length} of 300`,
    })
    // Stopped here: its short visibility timeout would take entries from the next test's group.
    second.process.kill('SIGTERM')
    await once(second.process, 'exit')
  })

  test('multi-instance - two gateways on one broker and database share a subscription', async ({
    skip: s,
  }) => {
    if (skip) return s(skip)
    const gateways: RunningGateway[] = []
    try {
      for (const agent of ['gw-a', 'gw-b']) {
        const state = await openStateStore({ databaseUrl: POSTGRES_URL, tablePrefix: TABLE_PREFIX })
        gateways.push(
          await startGateway(makeTransport(), {
            state,
            subscriptions: {
              ...TEST_SUBSCRIPTIONS,
              webhooks: { ...TEST_SUBSCRIPTIONS.webhooks, userAgent: agent },
            },
          }),
        )
      }
      const [a, b] = gateways as [RunningGateway, RunningGateway]
      const hook = await startReceiver()
      receivers.push(hook)
      hook.answer = () => new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 5))
      const admin = await a.token({ roles: ['admin'] })
      const stream = uniqueStream('subm')
      await createStream(a, admin, stream)
      const sub = await createSubscription(a, admin, {
        subscription_name: 'shared',
        stream_id: stream,
        webhook_url: hook.url,
        concurrency: 4,
      })
      // The other gateway picks the subscription up at its next sync.
      const adminB = await b.token({ roles: ['admin'] })
      await waitUntil(async () => {
        const res = await fetch(`${b.url}/api/v1/subscriptions/${sub.id}/status`, {
          headers: { authorization: `Bearer ${adminB}` },
        })
        return ((await res.json()) as { this_gateway: { running: boolean } }).this_gateway.running
      })
      const events = Array.from({ length: 200 }, (_, i) => ({ type: 'order.placed', data: { i } }))
      await a.bus.publishBatch(stream, events)
      await waitUntil(() => byId(hook.received).size >= 200, { timeoutMs: 30_000 })
      const agents = new Map<string, number>()
      for (const r of hook.received) {
        const agent = String(r.headers['user-agent'])
        agents.set(agent, (agents.get(agent) ?? 0) + 1)
      }
      expect(hook.received).toHaveLength(200)
      expect(agents.get('gw-a')).toBeGreaterThan(0)
      expect(agents.get('gw-b')).toBeGreaterThan(0)
    } finally {
      for (const gw of gateways) await gw.close()
    }
  })
})
