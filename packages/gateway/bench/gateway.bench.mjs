// Gateway rows: POST /api/v1/events (1 KB APG event, JWT checked, schema validated) beside a bare
// Fastify route that only calls bus.publish on the same bus, measured with autocannon; and
// WebSocket delivery latency to 100 clients at 1 000 events/s beside a bare ws broadcaster.
// The servers run in a child process (gateway-server.mjs) so autocannon has its own event loop.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import WebSocket from 'ws'

const SENT = /"sent":([\d.]+)/

const serverPath = fileURLToPath(new URL('./gateway-server.mjs', import.meta.url))
const producerPath = fileURLToPath(new URL('./producer.mjs', import.meta.url))

async function startServers() {
  const child = spawn(process.execPath, [serverPath], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const [line] = await once(lines, 'line')
  return { child, ...JSON.parse(line) }
}

function payload(bytes) {
  const event = { event_type: 'bench.order.placed', stream_id: 'bench.orders' }
  const base = { order_id: 'ord-1', total: 42, note: '' }
  const size = JSON.stringify({ ...event, payload: base }).length
  return JSON.stringify({ ...event, payload: { ...base, note: 'x'.repeat(bytes - size) } })
}

async function cannon({ url, headers, body, seconds, connections }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections,
    duration: seconds,
  })
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
  }
  return { rps: result.requests.average, p99: result.latency.p99 }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

/** Opens `count` clients, publishes at `rate` for `seconds`, returns the delivery latencies. */
async function wsRun({ wsUrl, control, protocols, count, rate, seconds, bytes }) {
  const latencies = []
  const clients = []
  const closes = {}
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(wsUrl, protocols)
    ws.on('message', (data) => {
      // A regular expression, not JSON.parse: 100 clients in one process read 100 000 frames/s.
      const match = SENT.exec(data.toString())
      if (match !== null)
        latencies.push(performance.timeOrigin + performance.now() - Number(match[1]))
    })
    ws.on('close', (code) => {
      closes[code] = (closes[code] ?? 0) + 1
    })
    await once(ws, 'open')
    clients.push(ws)
  }
  // Let every client's subscription settle before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 500))
  const producer = spawn(
    process.execPath,
    [producerPath, control, String(rate), String(seconds), String(bytes)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  producer.stdout.on('data', (chunk) => {
    output += chunk
  })
  const [code] = await once(producer, 'exit')
  if (code !== 0) throw new Error(`the producer failed (exit code ${code})`)
  const { published, ms } = JSON.parse(output)
  const deadline = Date.now() + 10_000
  while (latencies.length < published * count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  for (const ws of clients) ws.terminate()
  // Deliveries still missing after 10 s count as 10 s late, so a lagging server cannot look fast.
  const missing = published * count - latencies.length
  for (let i = 0; i < missing; i++) latencies.push(10_000)
  latencies.sort((a, b) => a - b)
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rate: Math.round((published * 1_000) / ms),
    missing,
    closes,
  }
}

export default async function bench({ report, quick }) {
  const seconds = quick ? 3 : 5
  const servers = await startServers()
  try {
    const body = payload(1_024)
    const headers = { 'content-type': 'application/json' }
    const common = { body, seconds, connections: 32 }
    // Warm both routes so JIT and pools are in the same state for the measured runs.
    await cannon({ url: `${servers.bareUrl}/bare`, headers, ...common, seconds: 2 })
    await cannon({
      url: `${servers.url}/api/v1/events`,
      headers: { ...headers, authorization: `Bearer ${servers.admin}` },
      ...common,
      seconds: 2,
    })
    // Alternating rounds, the order turning each round, best rate of each side: load from the
    // rest of the machine comes and goes in bursts of seconds and should not land on one side.
    const rounds = quick ? 1 : 3
    const gatewayHeaders = { ...headers, authorization: `Bearer ${servers.admin}` }
    const sides = {
      bare: () => cannon({ url: `${servers.bareUrl}/bare`, headers, ...common }),
      ours: () =>
        cannon({ url: `${servers.url}/api/v1/events`, headers: gatewayHeaders, ...common }),
    }
    const runs = { bare: [], ours: [] }
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare']
      for (const side of order) runs[side].push(await sides[side]())
    }
    const best = (list) => list.reduce((a, b) => (b.rps > a.rps ? b : a))
    const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1]
    const bare = { rps: best(runs.bare).rps, p99: median(runs.bare.map((r) => r.p99)) }
    const ours = { rps: best(runs.ours).rps, p99: median(runs.ours.map((r) => r.p99)) }
    report({
      scenario: `gateway POST /api/v1/events, 1 KB, JWT + schema (32 connections, best of ${rounds})`,
      unit: 'req/s',
      ours: ours.rps,
      raw: bare.rps,
      rawLabel: 'bare Fastify route + bus.publish',
      target: '>= 0.8x',
    })
    const jwt = await cannon({
      url: `${servers.bareUrl}/bare-jwt`,
      headers: { ...headers, authorization: `Bearer ${servers.admin}` },
      ...common,
    })
    report({
      scenario: 'bare Fastify route + jose jwtVerify (HS256) + bus.publish',
      unit: 'req/s',
      ours: jwt.rps,
      raw: bare.rps,
      rawLabel: 'bare Fastify route + bus.publish',
    })
    report({
      scenario: `gateway POST /api/v1/events p99 latency (median of ${rounds})`,
      unit: 'ms',
      ours: ours.p99,
      raw: bare.p99,
      rawLabel: 'bare Fastify route + bus.publish',
      target: '<= 1.5x',
    })
    // 1 000 events/s is the target row; 100 events/s shows the latency of a server that keeps up.
    for (const rate of [1_000, 100]) {
      const run = { count: 100, rate, seconds: quick ? 3 : 10, bytes: 200 }
      const raw = await wsRun({
        ...run,
        wsUrl: `${servers.bareUrl.replace(/^http/, 'ws')}/raw`,
        control: `${servers.bareUrl}/bare-batch`,
      })
      const live = await wsRun({
        ...run,
        wsUrl: `${servers.url.replace(/^http/, 'ws')}/ws/events/bench.live`,
        protocols: ['switchyard.bearer', servers.admin],
        control: `${servers.bareUrl}/bare-batch`,
      })
      const label = (r) =>
        `${r.rate} events/s reached, ${r.missing} deliveries missing, closes ${JSON.stringify(r.closes)}`
      console.log(`  at ${rate}/s gateway: ${label(live)}; bare ws: ${label(raw)}`)
      for (const p of ['p99', 'p50']) {
        report({
          scenario: `gateway WebSocket delivery ${p}, 100 clients, ${rate.toLocaleString('en-US')} events/s`,
          unit: 'ms',
          ours: live[p],
          raw: raw[p],
          rawLabel: 'bare ws broadcast of the same frames',
        })
      }
    }
  } finally {
    servers.child.kill('SIGTERM')
    await once(servers.child, 'exit')
  }
}
