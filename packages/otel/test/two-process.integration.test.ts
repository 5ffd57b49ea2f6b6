import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SpanKind } from '@opentelemetry/api'
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus, type EventEnvelope } from '@switchyard/core'
import { serviceOrSkip } from '@switchyard/testkit'
import { Redis } from 'ioredis'
import { build } from 'tsup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otelMiddleware } from '../src/index.js'
import { testSdk, until } from './sdk.js'

const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
const here = fileURLToPath(new URL('.', import.meta.url))
const outDir = fileURLToPath(new URL('../.cache/child/', import.meta.url))
const keyPrefix = `sy-otel-${Math.random().toString(36).slice(2, 10)}`

interface ChildReport {
  eventId: string
  traceId: string
  rootSpanId: string
  sendSpanId: string
  sendParentSpanId: string | undefined
  pid: number
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
  } finally {
    client.disconnect()
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url)
  client.on('error', () => undefined)
  try {
    const keys = await client.keys(`{${prefix}:*`)
    if (keys.length > 0) await client.del(...keys)
  } finally {
    client.disconnect()
  }
}

describe('otel across processes on Redis', () => {
  let skip: string | undefined

  beforeAll(async () => {
    skip = await serviceOrSkip('Redis', () => ping(REDIS_URL))
    if (skip) return
    // The child runs outside vitest: bundle it, with our packages from source, first.
    await build({
      entry: { 'producer-child': `${here}fixtures/producer-child.ts` },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      noExternal: [/^@switchyard\//],
      external: ['ioredis', /^@opentelemetry\//],
      config: false,
      silent: true,
      esbuildOptions(options) {
        options.conditions = ['@switchyard/source']
      },
    })
  }, 120_000)

  afterAll(async () => {
    if (!skip) await deleteKeys(REDIS_URL, keyPrefix)
  })

  it('propagation - process B handles in the trace process A published in', async (ctx) => {
    if (skip) return ctx.skip(skip)
    const sdk = testSdk()
    const topic = `orders.${keyPrefix}`
    const bus = createEventBus({
      transport: redisTransport({ url: REDIS_URL, keyPrefix }),
      source: 'process-b',
      middleware: [otelMiddleware({ tracerProvider: sdk.tracerProvider, metrics: false })],
    })
    const seen: EventEnvelope[] = []
    await bus.subscribe(topic, (event) => void seen.push(event), { group: 'billing' })

    const child = fork(`${outDir}producer-child.js`, [], {
      env: { ...process.env, REDIS_URL, KEY_PREFIX: keyPrefix, TOPIC: topic },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const report = await new Promise<ChildReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ChildReport))
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting`)))
    })
    await until(
      () => sdk.finished().some((s) => s.name === `process ${topic}`),
      15_000,
      'process B span',
    )
    await bus.close()

    expect(report.pid).not.toBe(process.pid)
    expect(report.sendParentSpanId).toBe(report.rootSpanId)
    expect(seen.map((e) => e.id)).toEqual([report.eventId])
    const [span] = sdk.finished().filter((s) => s.name === `process ${topic}`)
    expect(span!.kind).toBe(SpanKind.CONSUMER)
    expect(span!.spanContext().traceId).toBe(report.traceId)
    expect(span!.parentSpanContext).toMatchObject({ spanId: report.sendSpanId, isRemote: true })
    expect(span!.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': 'billing',
      'messaging.message.id': report.eventId,
      'cloudevents.event_source': 'process-a',
    })
    await sdk.shutdown()
  })
})
