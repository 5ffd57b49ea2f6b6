import { createEventBus, type EventBus, silentLogger } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  oneLineError,
  requireBuiltBin,
  runBin,
  startBin,
  unique,
  waitForStderr,
} from './support.js'

/** One broker for the CLI suite: its URL for the bin, and a transport for the test's own bus. */
export interface CliBroker {
  name: string
  url: string
  transport: () => Transport
  /** Transports that list no throwaway group of their own while they browse (all but Kafka). */
  groupless: boolean
}

async function lagOf(bus: EventBus, topic: string, group: string): Promise<number | null> {
  const [t] = (await bus.inspect(topic)).topics
  return t?.groups.find((g) => g.group === group)?.lag ?? null
}

/** Opens and closes a member of `group`, so the group exists at the end of `topic` and is stopped. */
async function stoppedGroup(bus: EventBus, topic: string, group: string): Promise<void> {
  await bus.publish(topic, { type: 'cli.setup', data: {} })
  const sub = await bus.subscribe(topic, () => undefined, { group, startAt: 'earliest' })
  await waitUntil(async () => (await lagOf(bus, topic, group)) === 0, {
    timeoutMs: 60_000,
    intervalMs: 200,
    message: `${group} caught up`,
  })
  await sub.close()
}

/** The done-when tests of the CLI against one real broker (one bus per file: Kafka is slow). */
export function cliBrokerSuite(broker: CliBroker, probe: () => Promise<unknown>): void {
  requireBuiltBin()
  let skip: string | undefined
  let bus: EventBus
  const url = ['--url', broker.url]
  beforeAll(async () => {
    skip = await serviceOrSkip(broker.name, probe)
    if (skip === undefined) {
      bus = createEventBus({
        transport: broker.transport(),
        source: 'cli-test',
        logger: silentLogger,
      })
      await bus.connect()
    }
  })
  afterAll(async () => {
    if (skip === undefined) await bus?.close()
  })

  describe(broker.name, () => {
    test('tail - shows events published after it started, and a group lag is unchanged', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip)
      const topic = unique('tail')
      await stoppedGroup(bus, topic, 'billing')
      const before = await bus.publishBatch(
        topic,
        [1, 2, 3, 4, 5].map((n) => ({ type: 'order.old', data: { n } })),
      )
      expect(await lagOf(bus, topic, 'billing')).toBe(5)
      const tail = startBin(['tail', topic, '--json', ...url])
      await waitForStderr(tail, 'no consumer group joined')
      const after = await bus.publishBatch(
        topic,
        [1, 2, 3].map((n) => ({ type: 'order.new', data: { n } })),
      )
      await waitUntil(() => tail.stdout().trim().split('\n').filter(Boolean).length >= 3, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'three tailed events',
        describe: () => tail.stdout() + tail.stderr(),
      })
      tail.child.kill('SIGINT')
      expect(await tail.exited).toBe(0)
      const lines = tail
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
      // Across Kafka partitions the order is by broker timestamp, which may tie: compare as sets.
      expect(lines.map((l) => l.event.id).sort()).toEqual(after.map((e) => e.id).sort())
      expect(lines.every((l) => l.topic === topic && typeof l.position === 'string')).toBe(true)
      expect(lines.some((l) => before.some((e) => e.id === l.event.id))).toBe(false)
      // Nothing was taken from the group: it still has every event to read.
      expect(await lagOf(bus, topic, 'billing')).toBe(8)
      if (broker.groupless) {
        const [t] = (await bus.inspect(topic)).topics
        expect(t!.groups.map((g) => g.group)).toEqual(['billing'])
      }
    })

    test('dlq replay - 100 dead letters are re-delivered and the group handles them', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip)
      const topic = unique('dlq')
      let broken = true
      const handled = new Set<string>()
      const sub = await bus.subscribe(
        topic,
        (event) => {
          if (broken) throw new Error('downstream is down')
          handled.add(event.id)
        },
        { group: 'mailer', startAt: 'earliest', concurrency: 16, retry: { maxAttempts: 1 } },
      )
      const sent = await bus.publishBatch(
        topic,
        Array.from({ length: 100 }, (_, n) => ({ type: 'mail.send', data: { n } })),
      )
      await waitUntil(async () => (await bus.inspect(topic)).topics[0]?.deadLetterDepth === 100, {
        timeoutMs: 120_000,
        intervalMs: 250,
        message: '100 dead letters',
      })
      broken = false
      const listed = await runBin([
        'dlq',
        'list',
        `${topic}.dlq`,
        '--json',
        '--limit',
        '500',
        ...url,
      ])
      expect(listed.code, listed.stderr).toBe(0)
      expect(JSON.parse(listed.stdout)).toHaveLength(100)
      const result = await runBin(['dlq', 'replay', `${topic}.dlq`, '--json', ...url], {
        timeoutMs: 120_000,
      })
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toEqual({
        topic: `${topic}.dlq`,
        replayed: 100,
        skipped: 0,
        failed: 0,
      })
      await waitUntil(() => handled.size === 100, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the group handles the 100 replayed events',
        describe: () => `${handled.size} handled`,
      })
      expect([...handled].sort()).toEqual(sent.map((e) => e.id).sort())
      await sub.close()
      // Its waits allow minutes (a busy CI broker joins each browse and replay group slowly);
      // the default 60 s test timeout cut one Kafka run short.
    }, 300_000)

    test('dlq discard - a filtered discard takes the matching entries, replay sends the rest', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip)
      const topic = unique('discard')
      let broken = true
      const handled: string[] = []
      const sub = await bus.subscribe(
        topic,
        (event) => {
          if (broken) throw new Error('not yet')
          handled.push(event.type)
        },
        { group: 'shipper', startAt: 'earliest', retry: { maxAttempts: 1 } },
      )
      // One key, the discarded first: on Kafka a skipped entry holds back those behind it in its
      // partition (README), so the discard commits only when the kept ones come last.
      const types = ['parcel.drop', 'parcel.drop', 'parcel.keep', 'parcel.keep']
      await bus.publishBatch(
        topic,
        types.map((type) => ({ type, partitionkey: 'parcels', data: {} })),
      )
      await waitUntil(async () => (await bus.inspect(topic)).topics[0]?.deadLetterDepth === 4, {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: '4 dead letters',
      })
      broken = false
      const dlq = `${topic}.dlq`
      const discarded = await runBin([
        'dlq',
        'discard',
        dlq,
        '--filter',
        'type=parcel.drop',
        '--json',
        ...url,
      ])
      expect(discarded.code, discarded.stderr).toBe(0)
      // Skipped counts the kept entries this run looked at: on Kafka the second waits behind the
      // first in their key's lane and is not looked at.
      const tally = JSON.parse(discarded.stdout)
      expect(tally).toMatchObject({ topic: dlq, discarded: 2, failed: 0 })
      expect(tally.skipped).toBeGreaterThanOrEqual(1)
      const replayed = await runBin(['dlq', 'replay', dlq, '--json', ...url], {
        timeoutMs: 120_000,
      })
      expect(replayed.code, replayed.stderr).toBe(0)
      expect(JSON.parse(replayed.stdout), replayed.stdout).toMatchObject({ replayed: 2, failed: 0 })
      await waitUntil(() => handled.length === 2, { timeoutMs: 60_000, message: 'two replayed' })
      expect(handled).toEqual(['parcel.keep', 'parcel.keep'])
      await sub.close()
    }, 300_000)

    test('groups - shows the exact lag of a group stopped with 500 unread events', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip)
      const topic = unique('lag')
      await stoppedGroup(bus, topic, 'reports')
      await bus.publishBatch(
        topic,
        Array.from({ length: 500 }, (_, n) => ({ type: 'row.added', data: { n } })),
      )
      const json = await runBin(['groups', topic, '--json', ...url])
      expect(json.code, json.stderr).toBe(0)
      const inspection = JSON.parse(json.stdout)
      expect(inspection.transport).toBe(broker.name)
      const group = inspection.topics[0].groups.find(
        (g: { group: string }) => g.group === 'reports',
      )
      expect(group).toMatchObject({ group: 'reports', lag: 500 })
      const table = await runBin(['groups', topic, ...url])
      expect(table.code).toBe(0)
      // Not a terminal: a header line, then one tab-separated line per group.
      expect(table.stdout.split('\n')[0]).toBe(
        'TOPIC\tGROUP\tLAG\tPENDING\tOLDEST UNSETTLED\tDEAD-LETTERED',
      )
      expect(table.stdout).toContain(`${topic}\treports\t500\t`)
      const topics = await runBin(['topics', '--json', ...url])
      expect(topics.code, topics.stderr).toBe(0)
      expect(JSON.parse(topics.stdout).topics.map((t: { topic: string }) => t.topic)).toContain(
        topic,
      )
    })

    test('errors - an unknown topic is one line and exit 4', async (ctx) => {
      if (skip !== undefined) return ctx.skip(skip)
      const topic = unique('missing')
      for (const args of [
        ['groups', topic],
        ['tail', topic],
        ['dlq', 'list', `${topic}.dlq`],
      ]) {
        const result = await runBin([...args, ...url])
        expect(result.code, result.stderr).toBe(4)
        expect(oneLineError(result)).toContain(topic)
        expect(result.stdout).toBe('')
      }
    })
  })
}
