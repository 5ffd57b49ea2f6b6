import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { call, type RunningGateway } from './support.js'

/** One request a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders
  body: Buffer
  at: number
}

/** What a receiver answers: a status, headers and a body. */
export interface Answer {
  status: number
  headers?: Record<string, string>
  body?: string
}

/** A real HTTP webhook receiver on 127.0.0.1 (node:http), recording every request. */
export interface Receiver {
  url: string
  port: number
  received: Received[]
  /** Sets how it answers (default 204 at once). */
  answer: (request: Received) => Answer | Promise<Answer>
  /** Stops listening and cuts open connections: the target is down. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

/** Starts a receiver on a free loopback port. */
export async function startReceiver(): Promise<Receiver> {
  let server: Server | undefined
  let port = 0
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    answer: () => ({ status: 204 }),
    async start() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const request = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() }
          receiver.received.push(request)
          void Promise.resolve(receiver.answer(request)).then((a) => {
            res.writeHead(a.status, a.headers)
            res.end(a.body)
          })
        })
      })
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject)
        server!.listen(port, '127.0.0.1', () => resolve())
      })
      port = (server.address() as AddressInfo).port
      receiver.port = port
      receiver.url = `http://127.0.0.1:${port}/hook`
    },
    async stop() {
      const s = server
      server = undefined
      if (s === undefined) return
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    },
    close: () => receiver.stop(),
  }
  await receiver.start()
  return receiver
}

/** Received requests grouped by `webhook-id`. */
export function byId(received: readonly Received[]): Map<string, Received[]> {
  const out = new Map<string, Received[]>()
  for (const r of received) {
    const id = String(r.headers['webhook-id'])
    const list = out.get(id) ?? []
    list.push(r)
    out.set(id, list)
  }
  return out
}

/** Creates a subscription through the REST API and expects a 201. */
export async function createSubscription(
  gw: RunningGateway,
  token: string,
  json: object,
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
): Promise<any> {
  const res = await call(`${gw.url}/api/v1/subscriptions`, { token, json })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

/** Creates a stream as admin. */
export async function createStream(gw: RunningGateway, admin: string, id: string): Promise<void> {
  const res = await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id } })
  expect(res.status).toBe(201)
}

/** The gateway options every subscription test uses: loopback receivers allowed, quick sync. */
export const TEST_SUBSCRIPTIONS = {
  webhooks: { allowNetworks: ['127.0.0.1/32', '::1'], maxRetryAfterWaits: 3 },
  syncIntervalMs: 200,
  statusIntervalMs: 500,
} as const
