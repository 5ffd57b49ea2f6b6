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
  // Counts requests; tells the parent when the expected number arrived.
  let expected = 0
  let count = 0
  process.on('message', (message) => {
    expected = message.expect
    count = 0
  })
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(204)
      res.end()
      count++
      if (count === expected) process.send({ done: count })
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
    const done = once(child, 'message')
    return done
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

async function ours({ receiver, count, concurrency }) {
  const secret = 'a-bench-secret-of-at-least-32-bytes!!'
  const bus = createEventBus({ transport: memoryTransport(), source: 'bench' })
  const app = await createGateway({
    bus,
    auth: { secret },
    rateLimit: false,
    streams: [{ id: 'bench.webhooks' }],
    subscriptions: { webhooks: { allowNetworks: ['127.0.0.1'] } },
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = await mintToken({ secret, roles: ['admin'] })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const created = await fetch(`${url}/api/v1/subscriptions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      subscription_name: 'bench',
      stream_id: 'bench.webhooks',
      webhook_url: receiver.url,
      concurrency,
    }),
  }).then((r) => r.json())
  const control = (action) =>
    fetch(`${url}/api/v1/subscriptions/${created.id}/${action}`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    })
  await control('pause')
  const all = events(count)
  for (let i = 0; i < all.length; i += 500)
    await bus.publishBatch('bench.webhooks', all.slice(i, i + 500))
  const done = receiver.expect(count)
  const started = performance.now()
  await control('resume')
  await done
  const seconds = (performance.now() - started) / 1000
  await app.close()
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
  const done = receiver.expect(count)
  const started = performance.now()
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
  await done
  const seconds = (performance.now() - started) / 1000
  await agent.close()
  return count / seconds
}

export default async function bench({ report, quick }) {
  const receiver = await startReceiver()
  const count = quick ? 2_000 : 10_000
  const rounds = quick ? 2 : 4
  try {
    for (const concurrency of [16, 64]) {
      const settings = { receiver, count, concurrency }
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
    receiver.child.kill()
  }
}
