// `pnpm --filter @switchyard/streams-example start`: runs the sample on the memory transport and
// prints each pipeline's results.
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { memoryStore } from '@switchyard/streams'
import { runExample } from './example.js'

const bus = createEventBus({ transport: memoryTransport(), source: 'streams-example' })
const results = await runExample(bus, memoryStore())
for (const e of results.hourly) {
  const x = e.extensions ?? {}
  console.log(`leave requests ${x.streamkey} ${x.windowstart} - ${x.windowend}: ${e.data}`)
}
for (const e of results.alerts) console.log('no asset within 2 days:', JSON.stringify(e.data))
for (const e of results.durations) console.log('execution duration:', JSON.stringify(e.data))
for (const e of results.late) console.log('late leave request set aside:', e.time)
await bus.close()
