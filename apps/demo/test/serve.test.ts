import { waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServedDemo, serveConsole } from '../src/serve.js'

describe('demo --serve', () => {
  let demo: ServedDemo
  beforeAll(async () => {
    demo = await serveConsole({ transport: 'memory', host: '127.0.0.1', port: 0 })
  })
  afterAll(() => demo?.stop())

  const get = async (path: string, token: string) => {
    const url = new URL(path, demo.consoleUrl)
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('demo - serves the console with a token that works, traffic flowing, a dead letter and a parked outbox row', async () => {
    expect(demo.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/)
    const page = await fetch(demo.consoleUrl)
    await page.arrayBuffer()
    expect(page.status).toBe(200)
    const status = await get('/api/v1/status', demo.operatorToken)
    expect(status.status).toBe(200)
    await waitUntil(
      async () => {
        const dead = await get('/api/v1/streams/employees.events/dead-letters', demo.operatorToken)
        return (dead.body.matched as number) >= 1
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'a dead-lettered welcome mail' },
    )
    const metrics = await get('/api/v1/streams/employees.events/metrics', demo.operatorToken)
    expect(metrics.body.published_total).toBeGreaterThan(0)
    const outbox = await get('/api/v1/outbox', demo.operatorToken)
    expect(outbox.body.parked).toBe(1)
    // The tenant token is scoped: the outbox spans tenants, leaves.events is not its stream.
    expect((await get('/api/v1/outbox', demo.tenantToken)).status).toBe(403)
    expect((await get('/api/v1/streams/leaves.events', demo.tenantToken)).status).toBe(403)
  })
})
