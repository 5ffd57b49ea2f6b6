import { ConnectionError, createEventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { serviceOrSkip, waitUntil } from '@switchyard/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createTestPki,
  startTlsKafka,
  type TestPki,
  type TlsKafka,
} from '../../../tooling/tls/index.js'
import { type KafkaTransportOptions, kafkaTransport } from '../src/index.js'
import { FAST } from './helpers.js'

// One private KRaft broker with three TLS listeners: SSL, SASL_SSL with SCRAM-SHA-256 (as
// DotMac's production config), and SSL presenting an expired certificate of the same CA.
let pki: TestPki | undefined
let broker: TlsKafka | undefined
const skip = await serviceOrSkip(
  'a private TLS Kafka broker',
  async () => {
    pki = await createTestPki()
    broker = await startTlsKafka(pki)
  },
  { timeoutMs: 120_000 },
)

afterAll(async () => {
  await broker?.dispose()
  await pki?.dispose()
}, 60_000)

function transport(options: KafkaTransportOptions) {
  return kafkaTransport({ ...FAST, connectTimeoutMs: 5_000, logger: silentLogger, ...options })
}

async function connectError(options: KafkaTransportOptions): Promise<ConnectionError> {
  const t = transport(options)
  try {
    await t.connect()
  } catch (error) {
    return error as ConnectionError
  } finally {
    await t.close()
  }
  throw new Error('connect() succeeded where it should have failed')
}

async function roundTrip(options: KafkaTransportOptions, topic: string): Promise<void> {
  const bus = createEventBus({
    transport: transport(options),
    source: 'tls-test',
    logger: silentLogger,
  })
  try {
    const seen: EventEnvelope[] = []
    await bus.subscribe(topic, (event) => void seen.push(event), {
      group: `${topic}-g`,
      startAt: 'earliest',
    })
    await bus.publish(topic, { type: 'tls.checked', data: { over: topic } })
    await waitUntil(() => seen.length === 1, { timeoutMs: 30_000, message: 'the event' })
    expect(seen[0]!.data).toEqual({ over: topic })
    expect((await bus.health()).status).toBe('up')
  } finally {
    await bus.close()
  }
}

describe.skipIf(skip !== undefined)('kafka tls - SSL and SASL_SSL with SCRAM-SHA-256', () => {
  it('tls - connects over SSL with the CA, publishes and consumes', async () => {
    await roundTrip(
      { brokers: broker!.ssl, securityProtocol: 'SSL', ssl: { ca: pki!.ca.cert } },
      'tls-ssl',
    )
  })

  it('tls - connects over SASL_SSL with SCRAM-SHA-256, publishes and consumes', async () => {
    await roundTrip(
      {
        brokers: broker!.saslSsl,
        securityProtocol: 'SASL_SSL',
        ssl: { ca: pki!.ca.cert },
        sasl: {
          mechanism: 'scram-sha-256',
          username: broker!.username,
          password: broker!.password,
        },
      },
      'tls-scram',
    )
  })

  it('tls - a broker certificate from another CA fails connect with a ConnectionError naming the certificate check', async () => {
    const error = await connectError({
      brokers: broker!.ssl,
      securityProtocol: 'SSL',
      ssl: { ca: pki!.otherCa.cert },
    })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/TLS/)
    expect(error.message).toMatch(/not signed by a CA this client trusts/)
    expect(error.message).toMatch(/ssl\.ca/)
  })

  it('tls - an expired broker certificate fails connect with a ConnectionError saying it expired', async () => {
    const error = await connectError({
      brokers: broker!.expiredSsl,
      securityProtocol: 'SSL',
      ssl: { ca: pki!.ca.cert },
    })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/certificate has expired/i)
  })

  it('tls - a wrong SCRAM password fails connect with a ConnectionError naming the credentials', async () => {
    const error = await connectError({
      brokers: broker!.saslSsl,
      securityProtocol: 'SASL_SSL',
      ssl: { ca: pki!.ca.cert },
      sasl: { mechanism: 'scram-sha-256', username: broker!.username, password: 'wrong-password' },
    })
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/refused the SASL credentials/)
  })
})
