import { randomBytes } from 'node:crypto'
import { createEventBus, type EventBus } from '@switchyard/core'
import type { Transport } from '@switchyard/core/transport'
import { serviceOrSkip } from '@switchyard/testkit'
import type { FastifyInstance } from 'fastify'
import { createGateway, type GatewayOptions, mintToken } from '../src/index.js'

/** A gateway listening on a loopback port, with tokens signed by its secret. */
export interface RunningGateway {
  app: FastifyInstance
  bus: EventBus
  url: string
  secret: string
  token(claims: { tenant?: string; roles: string[]; expirationHours?: number }): Promise<string>
  close(): Promise<void>
}

/** Starts a gateway over `transport` on 127.0.0.1, port 0. */
export async function startGateway(
  transport: Transport,
  options: Partial<GatewayOptions> = {},
): Promise<RunningGateway> {
  const secret = randomBytes(32).toString('hex')
  const bus = options.bus ?? createEventBus({ transport, source: 'gateway-test' })
  const app = await createGateway({ auth: { secret }, ...options, bus })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    bus,
    url,
    secret,
    // A subject per token: buckets of tokens without a tenant are keyed by subject.
    token: ({ tenant, roles, expirationHours }) =>
      mintToken({
        secret,
        tenant,
        roles,
        subject: `test-${randomBytes(4).toString('hex')}`,
        ...(expirationHours === undefined ? {} : { expirationHours }),
      }),
    close: () => app.close(),
  }
}

/** A unique stream name for one test. */
export function uniqueStream(prefix = 'gw'): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`
}

/** `fetch` with a bearer token and a JSON body. */
export async function call(
  url: string,
  init: {
    method?: string
    token?: string
    json?: unknown
    body?: string
    headers?: Record<string, string>
  } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  let body = init.body
  if (init.json !== undefined) {
    body = JSON.stringify(init.json)
    headers['content-type'] ??= 'application/json'
  }
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed }
}

/**
 * The skip reason of a broker suite: `make()`'s transport must connect and report up (with `CI`
 * set, a missing service fails instead, as `serviceOrSkip` does).
 */
export function transportOrSkip(
  service: string,
  make: () => Transport,
): Promise<string | undefined> {
  return serviceOrSkip(service, async () => {
    const transport = make()
    try {
      await transport.connect()
      const health = await transport.health()
      if (health.status !== 'up') throw new Error(health.detail ?? 'down')
    } finally {
      await transport.close()
    }
  })
}
