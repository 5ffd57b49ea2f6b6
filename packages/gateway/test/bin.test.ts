import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const run = promisify(execFile)
// The built bin, as `npx switchyard-gateway` runs it (CI builds before testing).
const main = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const execArgv = [main]
const sources = fileURLToPath(new URL('../src', import.meta.url))

beforeAll(() => {
  const built = existsSync(main) ? statSync(main).mtimeMs : 0
  const newest = readdirSync(sources, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith('.ts') && !f.name.endsWith('.test.ts'))
    .reduce((max, f) => Math.max(max, statSync(join(f.parentPath, f.name)).mtimeMs), 0)
  if (built < newest) {
    throw new Error(
      'dist/bin.js is missing or older than src: run pnpm --filter @switchyard/gateway build',
    )
  }
})
const cwd = mkdtempSync(join(tmpdir(), 'switchyard-gateway-bin-'))
// Only what any shell has: no API_*, JWT_*, DATABASE_URL or broker variable reaches the bin.
const bare = { PATH: process.env.PATH ?? '', HOME: cwd }
const children: ChildProcess[] = []

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  rmSync(cwd, { recursive: true, force: true })
})

function start(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, execArgv, { cwd, env: { ...bare, ...env } })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return { child, output: () => output }
}

async function curlPublish(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', [
    '-s',
    '-w',
    '\n%{http_code}',
    '-X',
    'POST',
    '-H',
    `Authorization: Bearer ${token}`,
    '-H',
    'Content-Type: application/json',
    '-d',
    JSON.stringify(body),
    `${url}/api/v1/events`,
  ])
  const lines = stdout.trimEnd().split('\n')
  return { status: Number(lines.pop()), body: lines.join('\n') }
}

describe('bin', { timeout: 120_000 }, () => {
  test('bin - starts with no configuration, prints an admin token that a curl publish works with', async () => {
    // API_PORT=0 only so parallel runs do not fight over 8080; everything else is the default.
    const { child, output } = start({ API_PORT: '0', LOG_LEVEL: 'warn' })
    await waitUntil(() => /Admin token[^\n]*\n(\S+)\n/.test(output()), {
      timeoutMs: 90_000,
      message: 'the bin prints its token',
      describe: output,
    })
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!
    const admin = /Admin token[^\n]*\n(\S+)\n/.exec(output())![1]!
    expect(output()).toMatch(/transport memory, state pglite/)
    const published = await curlPublish(url, admin, {
      event_type: 'demo.happened',
      stream_id: 'demo',
      payload: { n: 1 },
    })
    expect(published.status).toBe(202)
    expect(JSON.parse(published.body).event_ids).toHaveLength(1)

    const { stdout } = await run(
      process.execPath,
      [...execArgv, 'token', '--tenant', 'acme', '--roles', 'publisher,subscriber'],
      { cwd, env: bare },
    )
    const tenantToken = stdout.trim()
    const own = await curlPublish(url, tenantToken, {
      event_type: 'demo.happened',
      stream_id: 'demo',
      payload: { n: 2 },
    })
    expect(own.status).toBe(202)
    const other = await curlPublish(url, tenantToken, {
      event_type: 'demo.happened',
      stream_id: 'demo',
      payload: {},
      tenant_id: 'globex',
    })
    expect(other.status).toBe(403)
    expect(output()).not.toContain(tenantToken)

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  test('bin - refuses a non-loopback address without a configured secret', async () => {
    const { child, output } = start({ API_HOST: '0.0.0.0', API_PORT: '0' })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(output()).toMatch(
      /Refusing to listen on 0\.0\.0\.0 without JWT_SECRET_KEY or JWT_JWKS_URL/,
    )
  })
})

describe('bin webhook allow-list', { timeout: 120_000 }, () => {
  test('bin - WEBHOOK_ALLOW_NETWORKS lets webhooks reach a loopback receiver, others stay refused', async () => {
    const received: string[] = []
    const receiver = createServer((req, res) => {
      received.push(String(req.headers['ce-type']))
      req.resume()
      res.writeHead(204).end()
    })
    receiver.listen(0, '127.0.0.1')
    await once(receiver, 'listening')
    const port = (receiver.address() as AddressInfo).port
    try {
      const { child, output } = start({
        API_PORT: '0',
        LOG_LEVEL: 'warn',
        SWITCHYARD_DATA_DIR: join(cwd, 'allow-list-run'),
        WEBHOOK_ALLOW_NETWORKS: '127.0.0.1/32',
      })
      await waitUntil(() => /Admin token[^\n]*\n(\S+)\n/.test(output()), {
        timeoutMs: 90_000,
        message: 'the bin prints its token',
        describe: output,
      })
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!
      const admin = /Admin token[^\n]*\n(\S+)\n/.exec(output())![1]!
      const post = (path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      expect((await post('/api/v1/streams', { id: 'hooks' })).status).toBe(201)
      const hook = (webhook_url: string) =>
        post('/api/v1/subscriptions', { subscription_name: 'h', stream_id: 'hooks', webhook_url })
      // Not in the list: refused as the default guard refuses it.
      const refused = await hook('http://10.20.30.40/hook')
      expect(refused.status).toBe(400)
      expect(await refused.text()).toMatch(/10\.20\.30\.40.*private address/)
      // Loopback is refused without the variable; listed, the subscription is made and delivers.
      expect((await hook(`http://127.0.0.1:${port}/hook`)).status).toBe(201)
      const published = await curlPublish(url, admin, {
        event_type: 'demo.allowed',
        stream_id: 'hooks',
        payload: {},
      })
      expect(published.status).toBe(202)
      await waitUntil(() => received.includes('demo.allowed'), {
        timeoutMs: 30_000,
        message: 'the loopback receiver gets the event',
        describe: output,
      })
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      receiver.close()
    }
  })
})

describe('bin over Redis', { timeout: 120_000 }, () => {
  test('bin - REDIS_URL picks the Redis transport through its adapter', async ({ skip }) => {
    const { redisTransport } = await import('@switchyard/adapter-redis')
    const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
    const reason = await serviceOrSkip('Redis', async () => {
      const transport = redisTransport({ url, connectTimeoutMs: 3_000 })
      try {
        await transport.connect()
        if ((await transport.health()).status !== 'up') throw new Error('down')
      } finally {
        await transport.close()
      }
    })
    if (reason !== undefined) return skip(reason)
    const dataDir = join(cwd, 'redis-run')
    const { child, output } = start({
      API_PORT: '0',
      LOG_LEVEL: 'warn',
      REDIS_URL: url,
      SWITCHYARD_DATA_DIR: dataDir,
    })
    await waitUntil(() => /Admin token[^\n]*\n(\S+)\n/.test(output()), {
      timeoutMs: 90_000,
      message: 'the bin prints its token',
      describe: output,
    })
    expect(output()).toMatch(/transport redis/)
    const gateway = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output())![1]!
    const admin = /Admin token[^\n]*\n(\S+)\n/.exec(output())![1]!
    const stream = `gw.bin.${Math.random().toString(36).slice(2, 8)}`
    const published = await curlPublish(gateway, admin, {
      event_type: 'demo.happened',
      stream_id: stream,
      payload: { n: 1 },
    })
    expect(published.status).toBe(202)
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
