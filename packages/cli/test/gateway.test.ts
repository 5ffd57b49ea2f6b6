import { PGlite } from '@electric-sql/pglite'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventBus, silentLogger } from '@switchyard/core'
import { createGateway, mintToken } from '@switchyard/gateway'
import { enqueue, migrate } from '@switchyard/outbox'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  oneLineError,
  requireBuiltBin,
  runBin,
  startBin,
  unique,
  waitForStderr,
} from './support.js'

requireBuiltBin()
const secret = 'a-test-secret-of-at-least-32-bytes-long!'
let app: Awaited<ReturnType<typeof createGateway>>
let bus: EventBus
let db: PGlite
let url: string
let admin: string
const topic = unique('gw')

async function createStream(id: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/streams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
  })
  if (response.status !== 201 && response.status !== 200)
    throw new Error(`creating stream ${id}: ${response.status} ${await response.text()}`)
}

beforeAll(async () => {
  // The bin talks HTTP to this gateway; the bus behind it is in this process.
  bus = createEventBus({ transport: memoryTransport(), source: 'gw-test', logger: silentLogger })
  db = new PGlite()
  await migrate(db)
  await enqueue(db, 'orders', [{ type: 'order.created', source: 'shop', data: {} }])
  await db.query(`UPDATE outbox SET parked_at = now(), last_error = 'PublishError: down'`)
  app = await createGateway({ auth: { secret }, bus, outbox: { db }, logger: false } as never)
  url = await app.listen({ host: '127.0.0.1', port: 0 })
  admin = await mintToken({ secret, roles: ['admin'], subject: 'cli-test' })
  await createStream(topic)
})

afterAll(async () => {
  await app?.close()
  await bus?.close()
  await db?.close()
})

const gw = (...args: string[]) => ['--gateway', url, '--token', admin, ...args]

describe('through a gateway', () => {
  test('gateway - publish, groups, tail and dead letters go through the gateway routes', async () => {
    const handled: string[] = []
    let broken = true
    const sub = await bus.subscribe(
      topic,
      (event) => {
        if (broken) throw new Error('not yet')
        handled.push(event.id)
      },
      { group: 'audit', retry: { maxAttempts: 1 } },
    )
    const tail = startBin(gw('tail', topic, '--json'))
    await waitForStderr(tail, 'through the gateway')
    const published = await runBin(gw('publish', topic, '--type', 'order.created', '--json'), {
      input: '{"n":1}\n{"n":2}\n',
    })
    expect(published.code, published.stderr).toBe(0)
    const { ids } = JSON.parse(published.stdout)
    expect(ids).toHaveLength(2)
    await waitUntil(() => tail.stdout().trim().split('\n').filter(Boolean).length === 2, {
      timeoutMs: 30_000,
      message: 'two events tailed through the gateway',
    })
    tail.child.kill('SIGINT')
    expect(await tail.exited).toBe(0)
    expect(
      tail
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event.id),
    ).toEqual(ids)

    await waitUntil(async () => (await bus.inspect(topic)).topics[0]?.deadLetterDepth === 2, {
      message: 'two dead letters',
    })
    const groups = await runBin(gw('groups', topic, '--json'))
    expect(groups.code, groups.stderr).toBe(0)
    expect(JSON.parse(groups.stdout).topics[0].groups).toContainEqual(
      expect.objectContaining({ group: 'audit', lag: 0, deadLettered: 2 }),
    )
    const listed = await runBin(gw('dlq', 'list', `${topic}.dlq`, '--json'))
    expect(listed.code, listed.stderr).toBe(0)
    expect(
      JSON.parse(listed.stdout)
        .map((e: { event_id: string }) => e.event_id)
        .sort(),
    ).toEqual([...ids].sort())
    broken = false
    const replayed = await runBin(gw('dlq', 'replay', `${topic}.dlq`, '--json'))
    expect(replayed.code, replayed.stderr).toBe(0)
    expect(JSON.parse(replayed.stdout)).toMatchObject({ replayed: 2, failed: 0 })
    await waitUntil(() => handled.length === 2, { message: 'the group handles the replayed two' })
    await sub.close()
  })

  test('gateway - outbox status, parked and requeue; prune is refused with one line', async () => {
    const status = await runBin(gw('outbox', 'status', '--json'))
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0, parked: 1 })
    const requeued = await runBin(gw('outbox', 'requeue', '--all', '--json'))
    expect(JSON.parse(requeued.stdout)).toEqual({ requeued: 1 })
    const prune = await runBin(gw('outbox', 'prune'))
    expect(prune.code).toBe(2)
    expect(oneLineError(prune)).toContain('no route')
  })

  test('gateway - a bad token, another tenant or an unknown stream is one line and a clear code', async () => {
    const bad = await runBin(['--gateway', url, '--token', 'nope', 'groups', topic])
    expect(bad.code).toBe(3)
    expect(oneLineError(bad)).toContain('401')
    const tenant = await mintToken({
      secret,
      tenant: 'acme',
      roles: ['subscriber:other.*'],
      subject: 't',
    })
    const refused = await runBin([
      '--gateway',
      url,
      '--token',
      tenant,
      'dlq',
      'list',
      `${topic}.dlq`,
    ])
    expect(refused.code).toBe(3)
    expect(oneLineError(refused)).toContain('403')
    const missing = await runBin(gw('groups', 'no.such.stream'))
    expect(missing.code).toBe(4)
    expect(oneLineError(missing)).toContain('404')
    const wrongDlq = await runBin(gw('dlq', 'list', topic))
    expect(wrongDlq.code).toBe(2)
    expect(oneLineError(wrongDlq)).toContain('<stream>.dlq')
  })
})
