import { spawn, spawnSync } from 'node:child_process'
import { serviceOrSkip, sparePort, waitUntil } from '@switchyard/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  KAFKA_BROKERS,
  oneLineError,
  probeKafka,
  probeRedis,
  REDIS_URL,
  requireBuiltBin,
  runBin,
} from './support.js'

requireBuiltBin()

describe('bad input', () => {
  test('errors - a URL of no known scheme is one line and exit 2', async () => {
    for (const url of ['foo://bar', 'not a url', 'redis://']) {
      const result = await runBin(['groups', 'orders', '--url', url])
      expect(result.code).toBe(2)
      expect(oneLineError(result)).toContain('is not a broker URL')
    }
  })

  test('errors - malformed JSON in --data, a data file or stdin is one line and exit 2', async () => {
    const data = await runBin([
      'publish',
      'orders',
      '--type',
      'a',
      '--data',
      '{"id":',
      '--url',
      'memory:',
    ])
    expect(data.code).toBe(2)
    expect(oneLineError(data)).toMatch(/--data is not valid JSON/)
    const file = await runBin(['publish', 'orders', '--type', 'a', '--data', '@/nonexistent.json'])
    expect(file.code).toBe(2)
    expect(oneLineError(file)).toContain('Cannot read data file "/nonexistent.json": ENOENT')
    const stdin = await runBin(['publish', 'orders', '--url', 'memory:'], {
      input: '{"type":"a","data":{}}\n{oops}\n',
    })
    expect(stdin.code).toBe(2)
    expect(oneLineError(stdin)).toContain('stdin line 2 is not valid JSON')
  })

  test('errors - an unknown command or option prints usage to stderr and exits 2', async () => {
    const command = await runBin(['frobnicate'])
    expect(command.code).toBe(2)
    expect(command.stderr).toContain("unknown command 'frobnicate'")
    const option = await runBin(['groups', '--frob'])
    expect(option.code).toBe(2)
    expect(option.stderr).toContain("unknown option '--frob'")
    const missing = await runBin(['tail'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("missing required argument 'topic'")
  })

  test('errors - a broker that does not answer is one line and exit 3', async () => {
    const port = await sparePort()
    for (const url of [
      `redis://127.0.0.1:${port}`,
      `nats://127.0.0.1:${port}`,
      `kafka://127.0.0.1:${port}`,
    ]) {
      const result = await runBin(['topics', '--url', url, '--timeout', '5000'])
      expect(result.code, result.stderr).toBe(3)
      expect(oneLineError(result)).toMatch(/ECONNREFUSED|connection refused/)
    }
  })
})

describe('wrong credentials', () => {
  const servers: Array<{ kill(): void }> = []
  let skipRedis: string | undefined
  let skipKafka: string | undefined
  let skipNats: string | undefined
  beforeAll(async () => {
    skipRedis = await serviceOrSkip('Redis', probeRedis)
    skipKafka = await serviceOrSkip('Kafka', probeKafka)
    skipNats = await serviceOrSkip('nats-server', async () => {
      if (spawnSync('nats-server', ['--version']).status !== 0)
        throw new Error('no nats-server on PATH')
    })
  })
  afterAll(() => {
    for (const s of servers) s.kill()
  })

  test('errors - refused credentials are one line, exit 3, and the password is not printed', async (ctx) => {
    if (skipRedis !== undefined || skipKafka !== undefined) return ctx.skip(skipRedis ?? skipKafka)
    // Redis: an ACL user that does not exist; Kafka: SASL against a plaintext listener.
    const cases = [
      [REDIS_URL.replace('redis://', 'redis://nobody:hunter2@'), /refused the credentials/],
      [`kafka://nobody:hunter2@${KAFKA_BROKERS}`, /SASL/],
    ] as const
    for (const [url, reason] of cases) {
      const result = await runBin(['topics', '--url', url, '--timeout', '15000'])
      expect(result.code, result.stderr).toBe(3)
      const line = oneLineError(result)
      expect(line).toMatch(reason)
      expect(line).not.toContain('hunter2')
    }
  })

  test('errors - a NATS server that refuses the user is one line and exit 3', async (ctx) => {
    if (skipNats !== undefined) return ctx.skip(skipNats)
    const port = await sparePort()
    const server = spawn('nats-server', [
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--user',
      'alice',
      '--pass',
      'right',
    ])
    servers.push(server)
    let ready = ''
    server.stderr.on('data', (chunk: Buffer) => {
      ready += chunk.toString()
    })
    await waitUntil(() => ready.includes('Server is ready'), {
      timeoutMs: 10_000,
      message: 'nats-server',
    })
    const result = await runBin(['topics', '--url', `nats://alice:hunter2@127.0.0.1:${port}`])
    expect(result.code, result.stderr).toBe(3)
    const line = oneLineError(result)
    expect(line).toContain('Authorization Violation')
    expect(line).not.toContain('hunter2')
  })
})

describe('help', () => {
  const commands = [
    ['tail'],
    ['publish'],
    ['dlq', 'list'],
    ['dlq', 'show'],
    ['dlq', 'replay'],
    ['dlq', 'discard'],
    ['groups'],
    ['topics'],
    ['outbox', 'status'],
    ['outbox', 'parked'],
    ['outbox', 'requeue'],
    ['outbox', 'prune'],
    ['schema', 'validate'],
    ['schema', 'compat'],
    ['asyncapi'],
  ]
  test('help - every command has --help with examples and the global options, exit 0', async () => {
    const root = await runBin(['--help'])
    expect(root.code).toBe(0)
    expect(root.stdout).toContain('Exit codes:')
    for (const command of commands) {
      const result = await runBin([...command, '--help'])
      expect(result.code, command.join(' ')).toBe(0)
      expect(result.stdout, command.join(' ')).toContain('Examples:')
      expect(result.stdout, command.join(' ')).toContain('--json')
      expect(result.stdout, command.join(' ')).toContain(`$ switchyard ${command.join(' ')}`)
    }
  })
})
