// The soak's consumer process: `@switchyard/testkit/consumer`'s `runConsumerProcess` (one member
// of the spec's group, reporting `{"finished":id}` per event on stdout) on the private broker,
// plus a memory probe over the IPC channel: the soak process sends 'sample', the child runs a
// full GC and answers with its heap and RSS. argv: transport kind, broker address.
import { runConsumerProcess } from '../../packages/testkit/dist/consumer.js'
import { makeTransport } from './transports.mjs'

const [kind = '', address = ''] = process.argv.slice(2)

process.on('message', (message) => {
  if (message !== 'sample') return
  globalThis.gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  process.send?.({ heapUsed, rss })
})

await runConsumerProcess(makeTransport(kind, address))
