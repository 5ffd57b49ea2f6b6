import { it } from 'vitest'
import { createRelay, enqueue, migrate, pgDriver } from '../src/index.js'
import { numbered } from './store-suite.js'
import { POSTGRES_URL, uniqueTable } from './support.js'

it('prof', async () => {
  const d = pgDriver({ connectionString: POSTGRES_URL, max: 3 })
  for (const [label, keyFn] of [
    ['keyless', () => undefined],
    ['200 keys', (i: number) => `c-${(i * 7919) % 200}`],
  ] as const) {
    const table = uniqueTable()
    await migrate(d, { table })
    let t = Date.now()
    for (let from = 0; from < 20000; from += 2000)
      await d.transaction((tx) =>
        enqueue(tx, 'orders', numbered(2000, keyFn as never, from), { source: 's', table }),
      )
    console.log(label, 'enqueue ms', Date.now() - t)
    for (const batchSize of [250, 1000]) {
      await d.query(`UPDATE ${table} SET sent_at = NULL`)
      const relay = createRelay({
        driver: d,
        bus: { publishBatch: async () => undefined },
        table,
        batchSize,
      })
      t = Date.now()
      const n = await relay.drain()
      console.log(
        label,
        'batch',
        batchSize,
        'drained',
        n,
        'ms',
        Date.now() - t,
        'rate',
        Math.round(n / ((Date.now() - t) / 1000)),
      )
    }
  }
  await d.close()
})
