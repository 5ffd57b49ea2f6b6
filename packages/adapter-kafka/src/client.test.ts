import { AssignerProtocol } from 'kafkajs'
import { describe, expect, it, vi } from 'vitest'
import { createClient, createConsumer, subscriptionRoundRobin } from './client.js'
import { resolveOptions } from './options.js'

const member = (memberId: string, topics: string[]) => ({
  memberId,
  memberMetadata: AssignerProtocol.MemberMetadata.encode({
    version: 0,
    topics,
    userData: Buffer.alloc(0),
  }),
})

describe('subscriptionRoundRobin', () => {
  it('assignment - each member gets partitions only of topics it subscribed to, spread evenly', async () => {
    const partitions: Record<string, number> = { orders: 3, audit: 2 }
    const cluster = {
      addMultipleTargetTopics: async () => undefined,
      findTopicPartitionMetadata: (topic: string) =>
        Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId })),
    }
    const assigner = subscriptionRoundRobin({ cluster, groupId: 'g', logger: {} } as never)
    const plan = await assigner.assign({
      members: [member('a', ['orders']), member('b', ['orders', 'audit']), member('c', ['audit'])],
      topics: ['orders'],
    } as never)
    const decoded = Object.fromEntries(
      plan.map((p) => [
        p.memberId,
        AssignerProtocol.MemberAssignment.decode(p.memberAssignment)?.assignment,
      ]),
    )
    expect(Object.keys(decoded.a ?? {})).toEqual(['orders'])
    expect(Object.keys(decoded.c ?? {})).toEqual(['audit'])
    const all = (topic: string) =>
      Object.values(decoded)
        .flatMap((a) => a?.[topic] ?? [])
        .sort()
    expect(all('orders')).toEqual([0, 1, 2])
    expect(all('audit')).toEqual([0, 1])
    for (const assignment of Object.values(decoded)) {
      const count = Object.values(assignment ?? {}).flat().length
      expect(count).toBeGreaterThanOrEqual(1)
      expect(count).toBeLessThanOrEqual(2)
    }
  })
})

describe('createConsumer', () => {
  it('fetch sizes - the configured limits reach the kafkajs consumer', () => {
    let seen: Record<string, unknown> = {}
    const client = {
      consumer: (config: Record<string, unknown>) => {
        seen = config
        return {}
      },
      producer: () => ({}),
      admin: () => ({}),
    }
    const options = resolveOptions({
      fetchMaxBytesPerPartition: 2_097_152,
      fetchMaxBytes: 8_388_608,
    })
    createConsumer(client as never, 'g', options)
    expect(seen).toMatchObject({
      groupId: 'g',
      maxBytesPerPartition: 2_097_152,
      maxBytes: 8_388_608,
    })
  })

  it('logging - kafkajs lines go to the logger it is given, never straight to the console', () => {
    const lines: string[] = []
    const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
      void lines.push(`${level} ${message} ${JSON.stringify(fields)}`)
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
    const client = createClient(
      resolveOptions({ brokers: ['127.0.0.1:1'], logLevel: 'debug' }),
      () => logger,
    )
    const log = (
      client as unknown as {
        logger(): {
          error(m: string, e?: object): void
          info(m: string): void
          debug(m: string): void
        }
      }
    ).logger()
    const spy = vi.spyOn(console, 'error')
    const info = vi.spyOn(console, 'info')
    log.error('Connection error', { broker: '127.0.0.1:1', stack: 'Error: x\n    at y (z.js:1:1)' })
    log.info('joined')
    log.debug('fetching')
    expect(lines).toEqual([
      'warn kafka: Connection error {"broker":"127.0.0.1:1"}',
      'info kafka: joined {}',
      'debug kafka: fetching {}',
    ])
    expect(spy).not.toHaveBeenCalled()
    expect(info).not.toHaveBeenCalled()
    spy.mockRestore()
    info.mockRestore()
    expect(() => resolveOptions({ logger: { warn() {}, info() {} } as never })).toThrow(
      /kafkaTransport\.logger must be a pino-compatible logger/,
    )
  })
})
