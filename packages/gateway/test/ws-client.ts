import { randomBytes } from 'node:crypto'
import { createEventBus, type EventBus, type EventEnvelope } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { waitUntil } from '@switchyard/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import { WebSocket } from 'ws'
import { mintToken, openStateStore, switchyardGateway } from '../src/index.js'
import type { LiveOptions } from '../src/ws/options.js'

/** A frame the gateway sent. */
// biome-ignore lint/suspicious/noExplicitAny: tests read frames freely
export type Frame = any

/** An open test connection and everything it received. */
export interface Live {
  ws: WebSocket
  frames: Frame[]
  /** Envelopes of the `event` frames, in arrival order. */
  events(): EventEnvelope[]
  /** Resolves with the close code and reason once the connection closed. */
  closed: Promise<{ code: number; reason: string }>
  /** Waits until `count` event frames arrived. */
  waitForEvents(count: number, timeoutMs?: number): Promise<void>
  close(): void
}

/** Opens a WebSocket; resolves with the HTTP refusal when the upgrade is refused. */
export function openSocket(
  url: string,
  auth: { token?: string; as?: 'header' | 'protocol' } = {},
): Promise<Live | { status: number; body: Frame }> {
  const protocols = auth.as === 'protocol' && auth.token ? ['switchyard.bearer', auth.token] : []
  const headers =
    auth.as !== 'protocol' && auth.token ? { authorization: `Bearer ${auth.token}` } : {}
  const ws = new WebSocket(url, protocols, { headers })
  const frames: Frame[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())))
  ws.on('error', () => undefined)
  const events = () => frames.filter((f) => f.type === 'event').map((f) => f.event)
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_request, response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      response.on('end', () => {
        let body: Frame = text
        try {
          body = JSON.parse(text)
        } catch {}
        resolve({ status: response.statusCode ?? 0, body })
        ws.terminate()
      })
    })
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        events,
        closed,
        waitForEvents: (count, timeoutMs = 15_000) =>
          waitUntil(() => events().length >= count, {
            timeoutMs,
            describe: () => `${events().length} of ${count} events`,
          }),
        close: () => ws.close(),
      }),
    )
    ws.once('error', reject)
  })
}

/** Opens a connection that must be accepted and waits for its first frame. */
export async function connect(
  url: string,
  token: string,
  as: 'header' | 'protocol' = 'header',
): Promise<Live> {
  const live = await openSocket(url, { token, as })
  if (!('ws' in live))
    throw new Error(`upgrade refused: ${live.status} ${JSON.stringify(live.body)}`)
  await waitUntil(() => live.frames.length > 0, { message: 'no first frame' })
  return live
}

/** A gateway with WebSocket settings, on 127.0.0.1. */
export interface WsGateway {
  app: FastifyInstance
  bus: EventBus
  url: string
  ws: string
  token(claims: { tenant?: string; roles: string[]; expirationHours?: number }): Promise<string>
  close(): Promise<void>
}

/** Starts the gateway plugin over `transport` with `live` settings. */
export async function startWsGateway(transport: Transport, live: LiveOptions): Promise<WsGateway> {
  const secret = randomBytes(32).toString('hex')
  const bus = createEventBus({ transport, source: 'gateway-ws-test' })
  const app = Fastify()
  await app.register(switchyardGateway, {
    bus,
    store: await openStateStore({}),
    auth: { secret },
    preloadCatalogs: false,
    live: { group: `ws-test-${randomBytes(4).toString('hex')}`, ...live },
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    bus,
    url,
    ws: url.replace(/^http/, 'ws'),
    token: ({ tenant, roles, expirationHours }) =>
      mintToken({
        secret,
        tenant,
        roles,
        subject: `ws-${randomBytes(4).toString('hex')}`,
        ...(expirationHours === undefined ? {} : { expirationHours }),
      }),
    close: () => app.close(),
  }
}
