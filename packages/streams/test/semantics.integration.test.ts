import type { EventEnvelope } from '@switchyard/core'
import { afterAll, describe, expect, it } from 'vitest'
import {
  atLeast,
  followedBy,
  hopping,
  notFollowedBy,
  session,
  stream,
  tumbling,
} from '../src/index.js'
import { type Backend, kafkaBackend, memoryBackend, redisBackend } from './backends.js'
import { scenario } from './scenario.js'

// One file, every backend: the same inputs must give exactly the same results on the memory
// transport and on real brokers with durable stores.
const backends: Backend[] = [memoryBackend(), await redisBackend(), await kafkaBackend()]

type Data = { key: string; n: number }
const num = (e: { data?: unknown }) => (e.data as Data).n

for (const backend of backends) {
  const title =
    backend.skip === undefined ? backend.name : `${backend.name} (skipped: ${backend.skip})`
  describe.skipIf(backend.skip !== undefined)(
    `${title} - stream semantics`,
    { timeout: 120_000 },
    () => {
      afterAll(() => backend.dispose())

      it('tumbling - counts per key, accepts out-of-order events within grace, sends later ones to the late topic', async () => {
        const { rows, late, stats } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .window(tumbling(10_000), { grace: 5_000 })
              .count()
              .to(c.out),
          (ev) => [
            [
              ['a', ev('a', 1)],
              ['a', ev('a', 3)],
              ['a', ev('a', 12)],
              ['a', ev('a', 2)],
              ['a', ev('a', 16)],
              ['a', ev('a', 4)],
              ['a', ev('a', 31)],
              ['a', ev('a', 45)],
              ['a', ev('b', 5)],
              ['a', ev('b', 7)],
              ['a', ev('b', 100)],
            ],
          ],
        )
        expect(rows).toEqual([
          { key: 'a', start: 0, end: 10, final: true, value: 3 },
          { key: 'a', start: 10, end: 20, final: true, value: 2 },
          { key: 'a', start: 30, end: 40, final: true, value: 1 },
          { key: 'b', start: 0, end: 10, final: true, value: 2 },
        ])
        expect(late).toEqual(['a-tick-4'])
        expect(stats.late).toBe(1)
      })

      it('hopping - an event counts in every window covering it; one whose windows all closed is late', async () => {
        const { rows, late } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .window(hopping(10_000, 5_000))
              .count()
              .to(c.out),
          (ev) => [
            [
              ['a', ev('a', 1)],
              ['a', ev('a', 6)],
              ['a', ev('a', 12)],
              ['a', ev('a', 3)],
              ['a', ev('a', 30)],
            ],
          ],
        )
        expect(rows).toEqual([
          { key: 'a', start: -5, end: 5, final: true, value: 1 },
          { key: 'a', start: 0, end: 10, final: true, value: 2 },
          { key: 'a', start: 5, end: 15, final: true, value: 2 },
          { key: 'a', start: 10, end: 20, final: true, value: 1 },
        ])
        expect(late).toEqual(['a-tick-3'])
      })

      it('session - an out-of-order event bridges two sessions into one; aggregate merges them', async () => {
        const { rows, late } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .window(session(5_000), { grace: 5_000 })
              .aggregate(
                () => 0,
                (sum, e) => sum + num(e),
                (x, y) => x + y,
              )
              .to(c.out),
          (ev) => [
            [
              ['a', ev('a', 1)],
              ['a', ev('a', 3)],
              ['a', ev('a', 12)],
              ['a', ev('a', 7)],
              ['a', ev('a', 40)],
              ['a', ev('a', 20)],
              ['a', ev('a', 60)],
              ['a', ev('b', 1)],
              ['a', ev('b', 9)],
              ['a', ev('b', 5)],
              ['a', ev('b', 30)],
              ['a', ev('b', 50)],
            ],
          ],
        )
        expect(rows).toEqual([
          { key: 'a', start: 1, end: 12.001, final: true, value: 23 },
          { key: 'a', start: 40, end: 40.001, final: true, value: 40 },
          { key: 'b', start: 1, end: 9.001, final: true, value: 15 },
          { key: 'b', start: 30, end: 30.001, final: true, value: 30 },
        ])
        expect(late).toEqual(['a-tick-20'])
      })

      it('join - pairs events of two topics by key within the time bound, either order; a late one is set aside', async () => {
        const { rows, late } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .join(stream(c.bus, c.b, { group: c.name }), { within: 10_000 })
              .map((p) => ({ left: num(p.left), right: num(p.right), deltaMs: p.deltaMs }))
              .to(c.out),
          (ev) => [
            [
              ['a', ev('x1', 0, 'execution.started')],
              ['a', ev('x2', 5, 'execution.started')],
              ['a', ev('x3', 100, 'execution.started')],
            ],
            [
              ['b', ev('x1', 8, 'execution.completed')],
              ['b', ev('x2', 30, 'execution.completed')],
              ['b', ev('x3', 95, 'execution.completed')],
              ['b', ev('x1', 200, 'execution.completed')],
            ],
            [['a', ev('x1', 150, 'execution.started')]],
          ],
        )
        expect(rows.map((r) => ({ key: r.key, value: r.value }))).toEqual([
          { key: 'x1', value: { left: 0, right: 8, deltaMs: 8_000 } },
          { key: 'x3', value: { left: 100, right: 95, deltaMs: -5_000 } },
        ])
        expect(rows[0]).toMatchObject({ start: 0, end: 8.001 })
        expect(late).toEqual(['x1-execution.started-150'])
      })

      it('followedBy - A then B within T per key, B before A in arrival order included, each A once', async () => {
        const isA = (e: EventEnvelope) => e.type === 'A'
        const isB = (e: EventEnvelope) => e.type === 'B'
        const { rows, late } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .pattern(followedBy(isA, isB, { within: 10_000 }))
              .map((m) => [num(m.first), num(m.next), m.elapsedMs])
              .to(c.out),
          (ev) => [
            [
              ['a', ev('u1', 0, 'A')],
              ['a', ev('u1', 5, 'B')],
              ['a', ev('u2', 0, 'A')],
              ['a', ev('u2', 20, 'B')],
              ['a', ev('u2', 5, 'A')],
              ['a', ev('u3', 3, 'B')],
              ['a', ev('u3', 1, 'A')],
              ['a', ev('u4', 0, 'A')],
              ['a', ev('u4', 2, 'A')],
              ['a', ev('u4', 4, 'B')],
            ],
          ],
        )
        expect(rows.map((r) => [r.key, r.value])).toEqual([
          ['u1', [0, 5, 5_000]],
          ['u3', [1, 3, 2_000]],
          ['u4', [0, 4, 4_000]],
          ['u4', [2, 4, 2_000]],
        ])
        expect(late).toEqual(['u2-A-5'])
      })

      it('notFollowedBy - alerts once the watermark passes the deadline with no B in time', async () => {
        const { rows } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .pattern(
                notFollowedBy(
                  (e: EventEnvelope) => e.type === 'A',
                  (e: EventEnvelope) => e.type === 'B',
                  { within: 10_000 },
                ),
              )
              .map((m) => ({ first: num(m.first), deadline: m.deadline }))
              .to(c.out),
          (ev) => [
            [
              ['a', ev('e1', 0, 'A')],
              ['a', ev('e1', 5, 'B')],
              ['a', ev('e1', 30, 'X')],
              ['a', ev('e2', 0, 'A')],
              ['a', ev('e2', 11, 'X')],
              ['a', ev('e3', 0, 'A')],
              ['a', ev('e3', 15, 'B')],
              ['a', ev('e4', 2, 'B')],
              ['a', ev('e4', 1, 'A')],
              ['a', ev('e4', 30, 'X')],
            ],
          ],
        )
        const deadline = Date.UTC(2026, 0, 1) + 10_000
        expect(rows.map((r) => [r.key, r.value])).toEqual([
          ['e2', { first: 0, deadline }],
          ['e3', { first: 0, deadline }],
        ])
      })

      it('atLeast - a window reaching the threshold of matching events emits its count', async () => {
        const { rows } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .pattern(
                atLeast(3, {
                  window: tumbling(10_000),
                  where: (e: EventEnvelope) => e.type === 'login.failed',
                }),
              )
              .to(c.out),
          (ev) => [
            [
              ['a', ev('k1', 1, 'login.failed')],
              ['a', ev('k1', 2, 'login.ok')],
              ['a', ev('k1', 3, 'login.failed')],
              ['a', ev('k1', 4, 'login.failed')],
              ['a', ev('k1', 20, 'tick')],
              ['a', ev('k2', 1, 'login.failed')],
              ['a', ev('k2', 2, 'login.failed')],
              ['a', ev('k2', 20, 'tick')],
            ],
          ],
        )
        expect(rows).toEqual([{ key: 'k1', start: 0, end: 10, final: true, value: { count: 3 } }])
      })

      it('early updates - each change of an open window is emitted before the final result', async () => {
        const { rows } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .window(tumbling(10_000), { emit: 'early' })
              .count()
              .to(c.out),
          (ev) => [
            [
              ['a', ev('a', 1)],
              ['a', ev('a', 2)],
              ['a', ev('a', 15)],
            ],
          ],
        )
        expect(rows).toEqual([
          { key: 'a', start: 0, end: 10, final: false, value: 1 },
          { key: 'a', start: 0, end: 10, final: false, value: 2 },
          { key: 'a', start: 0, end: 10, final: true, value: 2 },
          { key: 'a', start: 10, end: 20, final: false, value: 1 },
        ])
      })

      it('state - a restarted processor on the same store continues the windows; a redelivered id counts once', async () => {
        const { rows, stats } = await scenario(
          backend,
          (c) =>
            stream(c.bus, c.a, { group: c.name, store: c.store, lateTopic: c.late })
              .keyBy((e) => (e.data as Data).key)
              .window(tumbling(10_000))
              .count()
              .to(c.out),
          (ev) => [
            [
              ['a', ev('a', 1)],
              ['a', ev('a', 2)],
            ],
            [
              ['a', ev('a', 3)],
              ['a', ev('a', 2)],
              ['a', ev('a', 11)],
            ],
          ],
          { restartAfterPhase: 1 },
        )
        expect(rows).toEqual([{ key: 'a', start: 0, end: 10, final: true, value: 3 }])
        expect(stats.duplicates).toBe(1)
      })
    },
  )
}
