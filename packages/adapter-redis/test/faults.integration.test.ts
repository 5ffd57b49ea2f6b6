import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  ConfigurationError,
  createEventBus,
  type DeadLetterRecord,
  readDeadLetter,
} from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisTransport, topicKeys } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('faults')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))
const make = (consumerTimeout = 30_000) =>
  redisTransport({ url: REDIS_URL, keyPrefix, consumerTimeout })

describe.skipIf(skip !== undefined)('redis faults - crashed consumer', () => {
  it('reclaim - entries of a consumer killed with SIGKILL mid-handler are handled by another', async () => {
    const topic = 'fault.sigkill'
    const group = 'workers'
    const producer = createEventBus({ transport: make(), source: 'producer' })
    // The doomed consumer is a real process on our transport, killed while its handlers run.
    const fixture = fileURLToPath(new URL('./fixtures/consumer.mjs', import.meta.url))
    const child = spawn(
      process.execPath,
      [
        '--conditions=@switchyard/source',
        '--import',
        '@switchyard/config/ts-child',
        fixture,
      ].concat([REDIS_URL, keyPrefix, topic, group]),
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    try {
      await waitUntil(() => output.includes('subscribed'), {
        timeoutMs: 20_000,
        message: 'the child to subscribe',
      })
      const sent = await producer.publishBatch(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ type: 'fault.work', data: { i } })),
      )
      const inChild = () => output.split('\n').filter((l) => l.startsWith('handling ')).length
      await waitUntil(() => inChild() >= 5, {
        timeoutMs: 10_000,
        message: '5 handlers running in the child',
      })
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      const taken = output.match(/handling (\S+)/gu)!.map((l) => l.slice('handling '.length))

      const attempts = new Map<string, number>()
      const survivor = createEventBus({ transport: make(1_000), source: 'survivor' })
      await survivor.subscribe(topic, (event, ctx) => void attempts.set(event.id, ctx.attempt), {
        group,
        concurrency: 4,
      })
      await waitUntil(() => attempts.size >= 20, {
        timeoutMs: 15_000,
        message: 'all 20 events handled by the survivor',
        describe: () => `${attempts.size} handled`,
      })
      expect(new Set(attempts.keys())).toEqual(new Set(sent.map((e) => e.id)))
      // The delivery count feeds the retry policy: a reclaimed entry arrives as attempt 2.
      for (const id of taken) expect(attempts.get(id)).toBeGreaterThanOrEqual(2)
      const client = new Redis(REDIS_URL)
      const { stream } = topicKeys(keyPrefix, topic)
      await waitUntil(async () => Number((await client.xpending(stream, group))[0]) === 0, {
        timeoutMs: 5_000,
        message: 'no entry left pending',
      })
      client.disconnect()
      await survivor.close()
    } finally {
      child.kill('SIGKILL')
      await producer.close()
    }
  })
})

describe.skipIf(skip !== undefined)('redis faults - lost data', () => {
  it('lost group - a stream deleted under a running subscription is recreated, consumption goes on', async () => {
    const topic = 'fault.lost'
    const bus = createEventBus({ transport: make(), source: 'lost-test' })
    const seen = new Set<string>()
    await bus.subscribe(topic, (event) => void seen.add(event.id), { group: 'lost' })
    const before = await bus.publish(topic, { type: 'fault.before' })
    await waitUntil(() => seen.has(before.id), { timeoutMs: 5_000, message: 'the first event' })
    // What a server restarted without persistence looks like: no stream, no group.
    const client = new Redis(REDIS_URL)
    await client.del(topicKeys(keyPrefix, topic).stream)
    client.disconnect()
    const after: string[] = []
    for (let i = 0; i < 5; i++) after.push((await bus.publish(topic, { type: 'fault.after' })).id)
    await waitUntil(() => after.every((id) => seen.has(id)), {
      timeoutMs: 10_000,
      message: 'events published after the stream was lost',
      describe: () => `${after.filter((id) => seen.has(id)).length} of 5`,
    })
    await bus.close()
  })
})

describe.skipIf(skip !== undefined)('redis faults - foreign keys', () => {
  it('wrong type - a key that is not a stream fails subscribe with a ConfigurationError', async () => {
    const topic = 'fault.wrongtype'
    const client = new Redis(REDIS_URL)
    await client.set(topicKeys(keyPrefix, topic).stream, 'not a stream')
    client.disconnect()
    const bus = createEventBus({ transport: make(), source: 'wrongtype-test' })
    const failure = await bus.subscribe(topic, () => undefined).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigurationError)
    expect((failure as Error).message).toMatch(/WRONGTYPE/)
    await bus.close()
  })
})

const cliSkip =
  skip ??
  (await serviceOrSkip('redis-cli', async () => {
    if (spawnSync('redis-cli', ['--version']).status !== 0)
      throw new Error('redis-cli is not on the PATH')
  }))

describe.skipIf(cliSkip !== undefined)('redis faults - foreign entries', () => {
  it('garbage - entries written with redis-cli XADD are dead-lettered with a reason, the consumer goes on', async () => {
    const topic = 'fault.garbage'
    const bus = createEventBus({ transport: make(), source: 'garbage-test' })
    const handled: string[] = []
    const dead: DeadLetterRecord[] = []
    await bus.subscribe(`${topic}.dlq`, (event) => void dead.push(readDeadLetter(event)), {
      group: 'dlq-reader',
      startAt: 'earliest',
    })
    await bus.subscribe(topic, (event) => void handled.push(event.id), { group: 'garbage' })
    const { stream } = topicKeys(keyPrefix, topic)
    const url = new URL(REDIS_URL)
    const cli = (...args: string[]) => {
      const run = spawnSync('redis-cli', [
        '-h',
        url.hostname,
        '-p',
        url.port || '6379',
        'XADD',
        stream,
        '*',
        ...args,
      ])
      expect(run.status).toBe(0)
    }
    cli('hello', 'world')
    cli('ce_type', 'fault.partial', 'data', '{"ok":true}')
    cli(
      'ce_id',
      'g-3',
      'ce_type',
      'fault.badjson',
      'ce_source',
      'cli',
      'ce_specversion',
      '1.0',
      'data',
      '{nope',
    )
    const good = await bus.publish(topic, { type: 'fault.good', data: { fine: true } })
    await waitUntil(() => dead.length >= 3 && handled.length >= 1, {
      timeoutMs: 10_000,
      message: 'three dead letters and the good event',
      describe: () => `${dead.length} dead, ${handled.length} handled`,
    })
    expect(handled).toEqual([good.id])
    expect(dead).toHaveLength(3)
    for (const entry of dead) {
      expect(entry.error.name).toBe('DecodeError')
      expect(entry.reason).toMatch(/could not decode/)
      expect(entry.attempts).toBe(1)
      expect(entry.topic).toBe(topic)
    }
    const bodies = dead.map((e) => Buffer.from(e.message.body, 'base64').toString()).sort()
    expect(bodies).toEqual(['', '{"ok":true}', '{nope'])
    expect(dead.find((e) => e.message.headers.hello === 'world')).toBeDefined()
    // Nothing stays pending: the garbage was acknowledged once parked in the dead-letter stream.
    const client = new Redis(REDIS_URL)
    await waitUntil(async () => Number((await client.xpending(stream, 'garbage'))[0]) === 0, {
      timeoutMs: 5_000,
      message: 'no garbage left pending',
    })
    client.disconnect()
    await bus.close()
  })
  it('foreign entry - an event written without ce_time gets the time Redis added it', async () => {
    const topic = 'fault.untimed'
    const bus = createEventBus({ transport: make(), source: 'untimed-test' })
    const times: string[] = []
    await bus.subscribe(topic, (event) => void times.push(event.time), { group: 'untimed' })
    const { stream } = topicKeys(keyPrefix, topic)
    const client = new Redis(REDIS_URL)
    const id = await client.xadd(
      stream,
      '*',
      'ce_specversion',
      '1.0',
      'ce_id',
      'u-1',
      'ce_type',
      'fault.untimed',
      'ce_source',
      'cli',
      'content-type',
      'application/json',
      'data',
      '{}',
    )
    client.disconnect()
    await waitUntil(() => times.length >= 1, { timeoutMs: 10_000, message: 'the untimed event' })
    expect(times).toEqual([new Date(Number(id!.split('-')[0])).toISOString()])
    await bus.close()
  })
})
