// Webhook delivery throughput of a gateway subscription (memory bus, signed binary-mode POSTs
// through undici) to a local receiver that answers 204 at once, beside a plain undici loop
// POSTing the same events with the same headers at the same concurrency, each signed as the
// gateway signs (HMAC-SHA256 of id, timestamp and body, key decoded once). The receiver runs in a
// child process (this file with --receiver) so it does not share the event loop being measured.
import { fork } from 'node:child_process'
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { Agent } from 'undici'
import { createGateway, mintToken } from '../dist/index.js'

if (process.argv[2] === '--receiver') {
  // Counts requests; tells the parent when the expected number arrived, and how long it was
  // from the first request to the last: both sides are timed alike, without their set-up.
  let expected = 0
  let count = 0
  let first = 0
  process.on('message', (message) => {
    expected = message.expect
    count = 0
  })
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(204)
      res.end()
      if (count++ === 0) first = performance.now()
      if (count === expected) process.send({ done: count, ms: performance.now() - first })
    })
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
} else {
  // Nothing: the bench runner imports the default export below.
}

async function startReceiver() {
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: 'inherit' })
  const [{ port }] = await once(child, 'message')
  const expect = async (n) => {
    child.send({ expect: n })
    const [{ ms }] = await once(child, 'message')
    return ms
  }
  return { child, url: `http://127.0.0.1:${port}/hook`, expect }
}

function events(count) {
  const note = 'x'.repeat(400)
  return Array.from({ length: count }, (_, i) => ({
    type: 'bench.order.placed',
    data: { order_id: `ord-${i}`, total: i, note },
  }))
}

/** One gateway for the whole bench: its start-up (PGlite included) is not in any round. */
async function startGateway() {
  const secret = 'a-bench-secret-of-at-least-32-bytes!!'
  const bus = createEventBus({ transport: memoryTransport(), source: 'bench' })
  const app = await createGateway({
    bus,
    auth: { secret },
    rateLimit: false,
    subscriptions: { webhooks: { allowNetworks: ['127.0.0.1'] } },
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = await mintToken({ secret, roles: ['admin'] })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const call = (path, method = 'POST', body) =>
    fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? { authorization: headers.authorization } : headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return { bus, app, call, rounds: 0 }
}

async function ours({ receiver, count, concurrency, gateway }) {
  // A stream and a subscription of their own each round; the previous one is deleted.
  const { bus, call } = gateway
  const stream = `bench.webhooks.${++gateway.rounds}`
  await call('/api/v1/streams', 'POST', { id: stream })
  const created = await call('/api/v1/subscriptions', 'POST', {
    subscription_name: 'bench',
    stream_id: stream,
    webhook_url: receiver.url,
    concurrency,
  }).then((r) => r.json())
  await call(`/api/v1/subscriptions/${created.id}/pause`)
  const all = events(count)
  for (let i = 0; i < all.length; i += 500) await bus.publishBatch(stream, all.slice(i, i + 500))
  globalThis.gc?.()
  const done = receiver.expect(count)
  await call(`/api/v1/subscriptions/${created.id}/resume`)
  const seconds = (await done) / 1000
  await call(`/api/v1/subscriptions/${created.id}`, 'DELETE')
  return count / seconds
}

async function raw({ receiver, count, concurrency }) {
  // The same events as the gateway sends them: binary-mode headers, the data as the body, and
  // the Standard Webhooks headers, signed per request (the timestamp is part of what is signed).
  const key = randomBytes(32)
  const bodies = events(count).map((e) => ({
    id: randomUUID(),
    type: e.type,
    time: new Date().toISOString(),
    body: Buffer.from(JSON.stringify(e.data)),
  }))
  const agent = new Agent({ connections: 128 })
  const { origin, pathname } = new URL(receiver.url)
  let next = 0
  globalThis.gc?.()
  const done = receiver.expect(count)
  const worker = async () => {
    while (next < count) {
      const { id, type, time, body } = bodies[next++]
      const timestamp = Math.floor(Date.now() / 1000)
      const hmac = createHmac('sha256', key)
      hmac.update(`${id}.${timestamp}.`)
      hmac.update(body)
      const headers = {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': 'bench',
        'ce-type': type,
        'ce-time': time,
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': `v1,${hmac.digest('base64')}`,
        'user-agent': 'switchyard-gateway',
      }
      const res = await agent.request({ origin, path: pathname, method: 'POST', headers, body })
      await res.body.dump()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (await done) / 1000
  await agent.close()
  return count / seconds
}

export default async function bench({ report, quick }) {
  const receiver = await startReceiver()
  const gateway = await startGateway()
  const count = quick ? 2_000 : 10_000
  const rounds = quick ? 2 : 4
  try {
    for (const concurrency of [16, 64]) {
      const settings = { receiver, count, concurrency, gateway }
      // Alternating rounds, best of each: load from other work on a shared machine comes and
      // goes, and hits both sides alike only when they take turns.
      let theirs = 0
      let mine = 0
      for (let round = 0; round < rounds; round++) {
        theirs = Math.max(theirs, await raw(settings))
        mine = Math.max(mine, await ours(settings))
      }
      report({
        scenario: `webhook delivery, ${concurrency} in flight, ~450 B events (best of ${rounds})`,
        ours: mine,
        raw: theirs,
        rawLabel: 'undici loop',
        unit: 'events/s',
        target: '>= 0.8x',
      })
    }
  } finally {
    await gateway.app.close()
    receiver.child.kill()
  }
}
