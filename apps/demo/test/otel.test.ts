import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.js'
import { setupOtel } from '../src/otel-setup.js'

/** A stand-in OTLP/HTTP collector: records what is posted to /v1/traces. */
async function collector() {
  const bodies: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(body)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

describe('demo --otel', () => {
  it('demo - --otel prints the span tree, serves Prometheus text and exports spans over OTLP', async () => {
    const otlp = await collector()
    const metricsPort = 20_000 + Math.floor(Math.random() * 20_000)
    const otel = setupOtel({ serviceName: 'demo-test', metricsPort, otlpEndpoint: otlp.url })
    const lines: string[] = []
    const log = (line: string) => void lines.push(line)
    try {
      const result = await runDemo({
        transport: 'memory',
        timeoutMs: 10_000,
        log,
        outbox: false,
        middleware: otel.middleware,
      })
      expect(result.ok).toBe(true)
      otel.printSummary(log)
      const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      expect(scrape.status).toBe(200)
      const text = await scrape.text()
      expect(text).toMatch(/^messaging_client_sent_messages\S* \d+/m)
      expect(text).toContain('messaging_process_duration')
    } finally {
      await otel.shutdown()
      await otlp.close()
    }
    expect(lines.some((l) => l.startsWith('Traces: '))).toBe(true)
    // The tree of the dead-lettered hire: a send span, then one process span per attempt.
    expect(lines.some((l) => l.includes('send employees.events'))).toBe(true)
    expect(lines.filter((l) => l.includes('process employees.events')).length).toBeGreaterThan(0)
    expect(
      lines.some((l) => l.includes(`Spans exported over OTLP/HTTP to ${otlp.url}/v1/traces`)),
    ).toBe(true)
    // Checked as booleans: a failure should not print the whole export.
    const exported = otlp.bodies.join('\n')
    expect(otlp.bodies.length).toBeGreaterThan(0)
    expect(exported.includes('"send employees.events"')).toBe(true)
    expect(exported.includes('"process employees.events"')).toBe(true)
    expect(exported.includes('"switchyard.dead_letter"')).toBe(true)
    expect(exported.includes('{"stringValue":"demo-test"}')).toBe(true)
  })
})
