import { type ChildProcess, spawn } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { migrateInbox, pgDriver } from '../src/index.js'
import { POSTGRES_URL, postgresOrSkip, uniqueTable } from './support.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const EVENTS = 300

/** Resolves when Redis answers PING (no client library needed for that). */
function pingRedis(url: string): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    socket.setTimeout(3_000, () => socket.destroy(new Error(`${url}: no answer in 3 s`)))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.end()
      if (data.toString().startsWith('+PONG')) resolve()
      else reject(new Error(`${url}: unexpected answer (authentication required?)`))
    })
    socket.once('error', (error) => {
      const hint = 'start it with tooling/services/redis.sh or set SWITCHYARD_REDIS_URL'
      reject(new Error(`${url}: ${error.message}; ${hint}`))
    })
  })
}

/** A consumer process with the lines it printed. */
interface Member {
  child: ChildProcess
  lines: string[]
  exited: Promise<NodeJS.Signals | null>
}

const children: ChildProcess[] = []

function member(args: string[], env: NodeJS.ProcessEnv): Promise<Member> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@switchyard/source',
      '--import',
      '@switchyard/config/ts-child',
      fileURLToPath(new URL('./fixtures/inbox-consumer.ts', import.meta.url)),
      ...args,
    ],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  )
  children.push(child)
  const lines: string[] = []
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  )
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line))
  return new Promise((resolve, reject) => {
    void exited.then((signal) => reject(new Error(`member exited before ready (${signal})`)))
    const poll = setInterval(() => {
      if (lines.includes('ready')) {
        clearInterval(poll)
        resolve({ child, lines, exited })
      }
    }, 10)
    void exited.then(() => clearInterval(poll))
  })
}

const idsIn = (members: Member[], word: string) =>
  members.flatMap((m) =>
    m.lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1)),
  )

describe('inbox across processes', () => {
  let skip: string | undefined
  const driver = pgDriver({ connectionString: POSTGRES_URL, max: 2 })

  beforeAll(async () => {
    skip = (await postgresOrSkip()) ?? (await serviceOrSkip('Redis', () => pingRedis(REDIS_URL)))
  })
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  })
  afterAll(async () => {
    await driver.close()
  })

  it('inbox - two processes in one Redis group, one killed mid-transaction and one between commit and ack, forced redelivery: every event worked exactly once', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const table = uniqueTable('inbox_p')
    const prefix = `sy-test-inbox-${Math.random().toString(36).slice(2, 10)}`
    const topic = 'orders'
    await migrateInbox(driver, { table })
    await driver.query(
      `CREATE TABLE ${table}_work (seq bigserial PRIMARY KEY, event_id text NOT NULL, handled_by text NOT NULL)`,
    )
    const publisher = createEventBus({
      source: 'inbox-test',
      transport: redisTransport({ url: REDIS_URL, keyPrefix: prefix }),
    })
    // SWITCHYARD_NO_INBOX=1 in the environment of this test runs the members without the inbox:
    // the test must then fail (the event of the member killed after its commit is worked twice).
    const env = { SWITCHYARD_NO_INBOX: process.env.SWITCHYARD_NO_INBOX ?? '' }
    const args = (name: string, die: string, after: number) => [
      REDIS_URL,
      prefix,
      topic,
      POSTGRES_URL,
      table,
      name,
      die,
      String(after),
    ]
    const members: Member[] = []
    try {
      // The group exists before anything is published, so every member shares it from the start.
      await (await publisher.subscribe(topic, () => undefined, { group: 'inbox' })).close()
      const ids = new Set<string>()
      for (let i = 0; i < EVENTS; i++) {
        ids.add((await publisher.publish(topic, { type: 'order.paid', data: { i } })).id)
      }
      // Two members at once; each dies with an event in flight.
      const [mid, committed] = await Promise.all([
        member(args('mid', 'mid', 20), env),
        member(args('committed', 'after-commit', 30), env),
      ])
      members.push(mid, committed)
      expect(await mid.exited).toBe('SIGKILL')
      expect(await committed.exited).toBe('SIGKILL')
      const [midId] = idsIn([mid], 'dying')
      const [committedId] = idsIn([committed], 'dying')
      expect(midId).toBeDefined()
      expect(committedId).toBeDefined()
      // Two survivors in the same group reclaim what the dead left pending (after 500 ms).
      const survivors = await Promise.all([
        member(args('s1', 'never', 0), env),
        member(args('s2', 'never', 0), env),
      ])
      members.push(...survivors)
      const rows = async () =>
        (await driver.query(`SELECT event_id, handled_by FROM ${table}_work ORDER BY seq`))
          .rows as { event_id: string; handled_by: string }[]
      await waitUntil(
        async () => new Set((await rows()).map((r) => r.event_id)).size === ids.size,
        {
          timeoutMs: 60_000,
          message: 'every event worked',
        },
      )
      // The event whose commit landed before the kill comes back to a survivor; wait for it.
      await waitUntil(
        async () =>
          idsIn(members, 'duplicate').includes(committedId!) ||
          (await rows()).filter((r) => r.event_id === committedId).length > 1,
        { timeoutMs: 30_000, message: 'the committed event redelivered' },
      )
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const worked = await rows()
      const times = new Map<string, number>()
      for (const r of worked) times.set(r.event_id, (times.get(r.event_id) ?? 0) + 1)
      const doubled = [...times].filter(([, n]) => n > 1).map(([id]) => id)
      expect({ doubled, missing: [...ids].filter((id) => !times.has(id)) }).toEqual({
        doubled: [],
        missing: [],
      })
      expect(worked).toHaveLength(ids.size)
      // The killed transaction left nothing: another member did that event's work.
      expect(worked.find((r) => r.event_id === midId)?.handled_by).not.toBe('mid')
      // The committed event kept its one work row and its redelivery (to whichever member was
      // alive) was dropped as a duplicate.
      expect(worked.find((r) => r.event_id === committedId)?.handled_by).toBe('committed')
      expect(idsIn(members, 'duplicate')).toContain(committedId)
    } finally {
      await publisher.close()
      await driver.query(`DROP TABLE IF EXISTS ${table}`)
      await driver.query(`DROP TABLE IF EXISTS ${table}_work`)
    }
  }, 120_000)
})
