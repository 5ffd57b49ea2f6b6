import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EventStore, pgDriver } from '../src/index.js'
import { freshStore, type TestDatabase, testDatabase, uniqueSchema, waitFor } from './support.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const outDir = fileURLToPath(new URL('../.cache/child/', import.meta.url))
const EVENTS = 2_000

describe('postgres - subscriber process killed', () => {
  let db: TestDatabase | undefined
  let skip: string | undefined
  const children: ChildProcess[] = []

  beforeAll(async () => {
    const opened = await testDatabase()
    if (typeof opened === 'string') {
      skip = opened
      return
    }
    db = opened
    // The child runs outside vitest: bundle it with the workspace packages from source.
    await build({
      entry: { 'subscriber-child': `${here}fixtures/subscriber-child.ts` },
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
    await db?.drop()
  })

  it('sigkill - a subscriber killed mid-catch-up resumes from its checkpoint with nothing skipped', async (ctx) => {
    if (skip || db === undefined) return ctx.skip(skip ?? 'no database')
    const driver = pgDriver({ connectionString: db.url, max: 2 })
    const { store, schema } = await freshStore(driver, { outbox: false })
    for (let i = 0; i < EVENTS; i += 100) {
      await store.append(
        `load-${i % 7}`,
        Array.from({ length: 100 }, (_, j) => ({ type: 'load', data: { n: i + j } })),
      )
    }
    const out = join(tmpdir(), `${uniqueSchema('sigkill')}.log`)
    const lines = () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(' '))
        : []
    const start = (run: string) => {
      const child = fork(`${outDir}subscriber-child.js`, [], {
        env: {
          ...process.env,
          DATABASE_URL: db!.url,
          SCHEMA: schema,
          OUT_FILE: out,
          RUN: run,
          NAME: 'killable',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      children.push(child)
      return child
    }
    const first = start('first')
    await waitFor(() => lines().length >= 400, 'the first child to handle 400 events')
    first.kill('SIGKILL')
    await new Promise((resolve) => first.once('exit', resolve))
    const checkpoint = await checkpointOf(store)
    const handledBeforeKill = lines().length
    expect(checkpoint).toBeGreaterThanOrEqual(50)
    expect(checkpoint).toBeLessThan(EVENTS)
    expect(handledBeforeKill).toBeGreaterThanOrEqual(checkpoint)
    const second = start('second')
    await waitFor(
      () => lines().filter(([run]) => run === 'second').length >= EVENTS - checkpoint,
      'the second child to catch up',
      60_000,
    )
    await waitFor(async () => (await checkpointOf(store)) === EVENTS, 'the final checkpoint')
    second.kill('SIGKILL')
    const all = lines()
    const secondRun = all.filter(([run]) => run === 'second').map(([, p]) => Number(p))
    // Resumed right after the checkpoint, then every later position once, in order.
    expect(secondRun).toEqual(
      Array.from({ length: EVENTS - checkpoint }, (_, i) => checkpoint + 1 + i),
    )
    // Nothing skipped: every position was handled by one run or the other.
    const handled = new Set(all.map(([, p]) => Number(p)))
    expect(handled.size).toBe(EVENTS)
    const ids = new Set(all.map(([, , id]) => id))
    const stored = (await store.readAll({ limit: EVENTS })).events.map((e) => e.event.id)
    expect([...ids].sort()).toEqual([...stored].sort())
    await driver.close()
  })
})

async function checkpointOf(store: EventStore): Promise<number> {
  return (await store.checkpoint('killable')) ?? 0
}
