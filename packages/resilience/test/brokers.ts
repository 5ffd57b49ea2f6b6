import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { memoryTransport } from '@switchyard/adapter-memory'
import { natsTransport } from '@switchyard/adapter-nats'
import { redisTransport } from '@switchyard/adapter-redis'
import type { Transport, TransportSubscription } from '@switchyard/core/transport'
import { serviceOrSkip, sparePort, waitUntil } from '@switchyard/testkit'
import { Redis } from 'ioredis'

export const REDIS_URL = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'

/** A name no other run uses (topics, key prefixes, stream prefixes). */
export function unique(label: string): string {
  return `${label}_${Math.random().toString(36).slice(2, 8)}`
}

/** Resolves when Redis answers PING at `url`. */
export async function pingRedis(url: string): Promise<void> {
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

async function probeNats(url: string): Promise<void> {
  const nc = await connect({ servers: url, timeout: 2_000, reconnect: false })
  try {
    await jetstreamManager(nc)
  } finally {
    await nc.close()
  }
}

/** Deletes the streams a run created (those named with `prefix`). */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
  try {
    const jsm = await jetstreamManager(nc)
    const names: string[] = []
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name)
    await Promise.all(names.map((name) => jsm.streams.delete(name)))
  } finally {
    await nc.close()
  }
}

/** Deletes the Redis keys a run created (those under `{prefix:`). */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(REDIS_URL)
  client.on('error', () => undefined)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}:*`, 'COUNT', 1_000)
      cursor = next
      if (keys.length > 0) await client.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

/** A broker the suites run on: its skip reason (undefined to run) and a transport factory. */
export interface Broker {
  name: 'memory' | 'redis' | 'nats'
  skip: string | undefined
  make(): Transport
  cleanup(): Promise<void>
}

const redisPrefix = unique('sy-res')
const natsPrefix = `SYT_${unique('res')}_`

/** Memory, Redis and NATS; a missing service skips with a visible reason (fails under CI). */
export async function brokers(): Promise<Broker[]> {
  const redisSkip = await serviceOrSkip('Redis', () => pingRedis(REDIS_URL))
  const natsSkip = await serviceOrSkip('NATS', () => probeNats(NATS_URL))
  return [
    { name: 'memory', skip: undefined, make: () => memoryTransport(), cleanup: async () => {} },
    {
      name: 'redis',
      skip: redisSkip,
      make: () => redisTransport({ url: REDIS_URL, keyPrefix: redisPrefix }),
      cleanup: () => (redisSkip === undefined ? deleteKeys(redisPrefix) : Promise.resolve()),
    },
    {
      name: 'nats',
      skip: natsSkip,
      make: () => natsTransport({ servers: NATS_URL, autoStreams: { prefix: natsPrefix } }),
      cleanup: () => (natsSkip === undefined ? deleteStreams(natsPrefix) : Promise.resolve()),
    },
  ]
}

/**
 * The transport with every `pull` of its subscriptions to `topic` counted: how a test sees that
 * a paused subscription stops reading the broker. Core offers no counter of its own.
 */
export function countingPulls(
  transport: Transport,
  topic: string,
): { transport: Transport; pulls: () => number } {
  let pulls = 0
  const countSubscription = (sub: TransportSubscription): TransportSubscription =>
    new Proxy(sub, {
      get(target, prop) {
        if (prop === 'pull') {
          return (...args: Parameters<TransportSubscription['pull']>) => {
            pulls++
            return target.pull(...args)
          }
        }
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const proxy = new Proxy(transport, {
    get(target, prop) {
      if (prop === 'subscribe') {
        return async (...args: Parameters<Transport['subscribe']>) => {
          const sub = await target.subscribe(...args)
          return args[0] === topic ? countSubscription(sub) : sub
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { transport: proxy, pulls: () => pulls }
}

/** True when a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0
}

/** A `redis-server` of the test's own on a spare port, without persistence: stopped and started at will. */
export class PrivateRedis {
  private child: ChildProcess | undefined
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const server = new PrivateRedis(await sparePort())
    await server.up()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async up(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]
    const child = spawn('redis-server', args, { stdio: 'ignore' })
    this.child = child
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
        return pingRedis(this.url).then(
          () => true,
          () => false,
        )
      },
      { timeoutMs: 10_000, intervalMs: 20, message: `redis-server on port ${this.port}` },
    )
  }

  async down(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
}
