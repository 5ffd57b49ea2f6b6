// The servers the gateway bench measures, in a process of their own so the load generator does
// not share their event loop: the gateway (JWT, schema validation, no rate limit) and, on another
// port, a bare Fastify route and a bare `ws` broadcaster over the same memory bus. Prints one JSON
// line with the URLs and an admin token.
import { randomBytes } from 'node:crypto'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { createGateway, mintToken } from '@switchyard/gateway'
import Fastify from 'fastify'
import { jwtVerify } from 'jose'
import { WebSocketServer } from 'ws'

const secret = randomBytes(32).toString('hex')
const bus = createEventBus({ transport: memoryTransport({ historySize: 1_000 }), source: 'bench' })
const gateway = await createGateway({
  bus,
  auth: { secret },
  rateLimit: false,
  preloadCatalogs: false,
  closeBus: false,
})
const url = await gateway.listen({ host: '127.0.0.1', port: 0 })
const admin = await mintToken({ secret, roles: ['admin'] })
const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }
for (const stream of ['bench.orders', 'bench.live']) {
  await fetch(`${url}/api/v1/streams`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ id: stream }),
  })
}
const registered = await fetch(`${url}/api/v1/schemas`, {
  method: 'POST',
  headers,
  body: JSON.stringify({
    event_type: 'bench.order.placed',
    schema: {
      type: 'object',
      required: ['order_id', 'total', 'note'],
      properties: {
        order_id: { type: 'string' },
        total: { type: 'number', minimum: 0 },
        note: { type: 'string' },
      },
    },
  }),
})
if (registered.status !== 201) throw new Error(`schema registration: ${registered.status}`)

const bare = Fastify()
bare.post('/bare', async (request, reply) => {
  const body = request.body
  const event = await bus.publish(body.stream_id, { type: body.event_type, data: body.payload })
  return reply.code(202).send({ status: 'accepted', event_id: event.id })
})
// The bare route plus the gateway's token check (jose's jwtVerify with the same key form), to
// tell how much of the gap the JWT costs.
const key = new TextEncoder().encode(secret)
bare.post('/bare-jwt', async (request, reply) => {
  const token = request.headers.authorization?.slice('Bearer '.length) ?? ''
  await jwtVerify(token, key, { algorithms: ['HS256'] })
  const body = request.body
  const event = await bus.publish(body.stream_id, { type: body.event_type, data: body.payload })
  return reply.code(202).send({ status: 'accepted', event_id: event.id })
})
// The raw WebSocket row: every live event sent to every client of a plain ws server.
const raw = new WebSocketServer({ noServer: true })
bare.server.on('upgrade', (request, socket, head) => {
  raw.handleUpgrade(request, socket, head, (ws) => raw.emit('connection', ws))
})
await bus.subscribe(
  'bench.live',
  (event, ctx) => {
    if (raw.clients.size === 0) return
    const frame = Buffer.from(
      JSON.stringify({
        type: 'event',
        stream: 'bench.live',
        sequence: ctx.message.position,
        event,
      }),
    )
    for (const client of raw.clients) client.send(frame, { binary: false })
  },
  // The same subscription settings as the gateway's live hub.
  { group: 'bench-raw-ws', deadLetter: false, retry: { maxAttempts: 1 }, prefetch: 1024 },
)
// The WebSocket rows' publisher (producer.mjs, another process) posts batches here.
bare.post('/bare-batch', async (request, reply) => {
  await bus.publishBatch('bench.live', request.body.events)
  return reply.code(202).send({ status: 'accepted' })
})
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 })
console.log(JSON.stringify({ url, bareUrl, admin }))
process.on('SIGTERM', async () => {
  setTimeout(() => process.exit(0), 5_000).unref()
  for (const client of raw.clients) client.terminate()
  await bare.close()
  await gateway.close()
  await bus.close()
  process.exit(0)
})
