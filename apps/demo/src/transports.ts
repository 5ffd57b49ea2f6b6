import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import type { Transport } from '@switchyard/core/transport'

/** Transports the demo can run on. */
export const TRANSPORTS = ['memory', 'redis', 'nats', 'kafka'] as const
/** One of `TRANSPORTS`. */
export type TransportName = (typeof TRANSPORTS)[number]

const ADAPTERS: Record<Exclude<TransportName, 'memory'>, { pkg: string; factory: string }> = {
  redis: { pkg: '@switchyard/adapter-redis', factory: 'redisTransport' },
  nats: { pkg: '@switchyard/adapter-nats', factory: 'natsTransport' },
  kafka: { pkg: '@switchyard/adapter-kafka', factory: 'kafkaTransport' },
}

/**
 * Returns a factory of transports that all reach the same broker: each "service" of the demo
 * gets its own, as separate processes would. Broker adapters read their usual environment
 * variables (`REDIS_URL`, `NATS_URL`, `KAFKA_BOOTSTRAP_SERVERS`) through their `fromEnv()`.
 */
export async function transportFactory(name: TransportName): Promise<() => Transport> {
  if (name === 'memory') {
    const broker = createMemoryBroker()
    return () => memoryTransport({ broker })
  }
  const { pkg, factory } = ADAPTERS[name]
  // Loaded on demand, so the memory demo needs no broker client at all.
  const mod = (await import(pkg)) as Record<string, unknown>
  const make = mod[factory] as ((options: unknown) => Transport) | undefined
  const fromEnv = mod.fromEnv as (() => unknown) | undefined
  if (typeof make !== 'function') throw new Error(`${pkg} does not export ${factory}()`)
  return () => make(typeof fromEnv === 'function' ? fromEnv() : {})
}
