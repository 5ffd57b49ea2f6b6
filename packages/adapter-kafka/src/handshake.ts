import { connect as tcpConnect } from 'node:net'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'

/** What a bootstrap address answered to a Kafka `ApiVersions` request. */
export type Handshake =
  | { readonly ok: true; readonly broker: string }
  | {
      readonly ok: false
      readonly broker: string
      /**
       * `unreachable`: no connection (refused, timed out, DNS), worth trying again; `foreign`:
       * something answered that is not Kafka; `silent`: a connection, but no Kafka answer in time.
       */
      readonly kind: 'unreachable' | 'foreign' | 'silent'
      readonly detail: string
    }

// A correlation id of our own: a Kafka broker echoes it as the first field of its answer.
const CORRELATION_ID = 0x53_59_4b_31
// ApiVersions answers are a few hundred bytes; a length prefix beyond this is not Kafka talking.
const MAX_ANSWER_BYTES = 1 << 20

/** An ApiVersions v0 request: every broker since 0.10 answers it, before any authentication. */
function apiVersionsRequest(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8')
  const request = Buffer.alloc(4 + 10 + id.length)
  request.writeInt32BE(10 + id.length, 0)
  request.writeInt16BE(18, 4) // ApiVersions
  request.writeInt16BE(0, 6) // version 0
  request.writeInt32BE(CORRELATION_ID, 8)
  request.writeInt16BE(id.length, 12)
  id.copy(request, 14)
  return request
}

/**
 * Asks one bootstrap address for its API versions over a connection of its own (TLS when `ssl`
 * is set), within `timeoutMs`: a Kafka listener answers at once, so a peer that is down, is not
 * Kafka or says nothing is known in milliseconds (or at the bound) instead of after kafkajs's
 * retries and 30 s request timeout. Never rejects.
 */
export function handshake(
  broker: string,
  options: { ssl: boolean | ConnectionOptions; clientId: string; timeoutMs: number },
): Promise<Handshake> {
  const at = broker.lastIndexOf(':')
  const host = broker.slice(0, at).replace(/^\[(.*)\]$/u, '$1')
  const port = Number(broker.slice(at + 1))
  return new Promise<Handshake>((resolve) => {
    let connected = false
    let received = Buffer.alloc(0)
    const tls = options.ssl === false ? undefined : options.ssl === true ? {} : options.ssl
    const socket =
      tls === undefined
        ? tcpConnect({ host, port })
        : tlsConnect({ servername: host, ...tls, host, port })
    const finish = (result: Handshake): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const fail = (kind: 'unreachable' | 'foreign' | 'silent', detail: string): void =>
      finish({ ok: false, broker, kind, detail })
    // Connection-level bound of this one probe (a socket has no deadline of its own).
    const timer = setTimeout(() => {
      if (connected) fail('silent', `no Kafka answer within ${options.timeoutMs} ms`)
      else fail('unreachable', `no connection within ${options.timeoutMs} ms`)
    }, options.timeoutMs)
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      connected = true
      socket.write(apiVersionsRequest(options.clientId))
    })
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 8) return
      const size = received.readInt32BE(0)
      if (size >= 4 && size <= MAX_ANSWER_BYTES && received.readInt32BE(4) === CORRELATION_ID) {
        finish({ ok: true, broker })
      } else {
        fail('foreign', `it answered ${printable(received)}, which is not Kafka`)
      }
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (connected) fail('foreign', `the connection failed during the handshake: ${error.message}`)
      else fail('unreachable', error.message)
    })
    socket.once('close', () => {
      if (connected) fail('foreign', 'it closed the connection without a Kafka answer')
      else fail('unreachable', 'the connection closed')
    })
  })
}

/** The first bytes of an answer, as text a person can recognise (`INFO {"server_id"...`). */
function printable(bytes: Buffer): string {
  const text = bytes
    .subarray(0, 24)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/gu, '.')
  return JSON.stringify(text)
}

/**
 * Probes every bootstrap address at once, bounded by `connectTimeoutMs`: resolves as soon as one
 * answers as Kafka (with undefined), or with every failure when none did.
 */
export function bootstrapFailures(options: {
  brokers: readonly string[]
  ssl: boolean | ConnectionOptions
  clientId: string
  connectTimeoutMs: number
}): Promise<Handshake[] | undefined> {
  const { brokers, ssl, clientId, connectTimeoutMs: timeoutMs } = options
  return new Promise((resolve) => {
    const failures: Handshake[] = []
    for (const broker of brokers) {
      void handshake(broker, { ssl, clientId, timeoutMs }).then((result) => {
        if (result.ok) resolve(undefined)
        else if (failures.push(result) === brokers.length) resolve(failures)
      })
    }
  })
}
