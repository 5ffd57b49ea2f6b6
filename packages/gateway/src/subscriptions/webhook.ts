import { isIP } from 'node:net'
import type { EventEnvelope } from '@switchyard/core'
import { Agent, type Dispatcher } from 'undici'
import { httpMessage } from './cloudevents-http.js'
import type { SubscriptionDefinition } from './definition.js'
import type { ResolvedSubscriptionOptions } from './options.js'
import { signWebhook } from './signing.js'
import type { TargetGuard } from './ssrf.js'

/** What one webhook POST came to. */
export type WebhookResult =
  | { ok: true; status: number }
  | {
      ok: false
      /** HTTP status, when the receiver answered. */
      status: number | undefined
      /** From `Retry-After` of a 429 or 503, capped. */
      retryAfterMs: number | undefined
      /** What happened, for the dead-letter reason and `last_error`. */
      detail: string
      /** True when trying again cannot help (the target is refused). */
      permanent: boolean
    }

interface Target {
  origin: string
  path: string
  /** Origin and path only: a query may hold a credential, so it is never shown. */
  shown: string
  refused: string | undefined
}

/** The `Retry-After` of a response in ms: seconds, or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()) {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined || raw.trim() === '') return undefined
  if (/^\s*\d+\s*$/.test(raw)) return Number(raw) * 1000
  const date = Date.parse(raw)
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined
}

async function excerptOf(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      // Leaving the loop early destroys the stream: nothing more is read.
      if (size >= max) break
    }
  } catch {
    // A body cut short still has its first bytes to show.
  }
  const text = Buffer.concat(chunks).subarray(0, max).toString('utf8')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}

/**
 * POSTs events to webhooks through one undici `Agent`: keep-alive connections per origin, a
 * connect-time address check (the SSRF guard's `lookup`), and a per-request timeout.
 */
export class WebhookSender {
  private readonly agent: Agent
  private readonly targets = new Map<string, Target>()

  constructor(
    private readonly guard: TargetGuard,
    private readonly options: ResolvedSubscriptionOptions,
  ) {
    this.agent = new Agent({
      connections: options.maxConnectionsPerOrigin,
      connect: { lookup: guard.lookup },
    })
  }

  private target(url: string): Target {
    let target = this.targets.get(url)
    if (target === undefined) {
      const parsed = new URL(url)
      const host = parsed.hostname.replace(/^\[|\]$/g, '')
      // Names are checked when connecting; an address literal never goes through a lookup.
      const refused = isIP(host) === 0 ? undefined : this.guard.refusal(host)
      target = {
        origin: parsed.origin,
        path: `${parsed.pathname}${parsed.search}`,
        shown: `${parsed.origin}${parsed.pathname}`,
        refused: refused === undefined ? undefined : `${host} is ${refused}; refused`,
      }
      if (this.targets.size > 10_000) this.targets.clear()
      this.targets.set(url, target)
    }
    return target
  }

  /** POSTs one event, signed, in the subscription's content mode. */
  async send(definition: SubscriptionDefinition, event: EventEnvelope): Promise<WebhookResult> {
    const target = this.target(definition.webhookUrl!)
    if (target.refused !== undefined) {
      const detail = `webhook target ${target.refused}`
      return { ok: false, status: undefined, retryAfterMs: undefined, detail, permanent: true }
    }
    const { headers, body } = httpMessage(event, definition.contentMode)
    const timestamp = Math.floor(Date.now() / 1000)
    headers['webhook-id'] = event.id
    headers['webhook-timestamp'] = String(timestamp)
    headers['webhook-signature'] = signWebhook(definition.secret, event.id, timestamp, body)
    headers['user-agent'] = this.options.userAgent
    const timeoutMs = definition.timeoutMs
    let response: Dispatcher.ResponseData
    try {
      response = await this.agent.request({
        origin: target.origin,
        path: target.path,
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
    } catch (error) {
      const err = error as Error & { code?: string; cause?: { code?: string; message?: string } }
      const code = err.code ?? err.cause?.code
      const refused = code === 'ERR_WEBHOOK_TARGET_REFUSED'
      const detail =
        code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
          ? `POST ${target.shown} got no answer within ${timeoutMs} ms`
          : `POST ${target.shown} failed: ${code ?? err.name}: ${err.cause?.message ?? err.message}`
      return { ok: false, status: undefined, retryAfterMs: undefined, detail, permanent: refused }
    }
    const status = response.statusCode
    if (status >= 200 && status < 300) {
      await response.body.dump().catch(() => undefined)
      return { ok: true, status }
    }
    const excerpt = await excerptOf(response.body, this.options.bodyExcerptBytes)
    const waits = status === 429 || status === 503
    const after = waits ? retryAfterMs(response.headers['retry-after']) : undefined
    return {
      ok: false,
      status,
      retryAfterMs: after === undefined ? undefined : Math.min(after, this.options.maxRetryAfterMs),
      detail: `POST ${target.shown} answered HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`,
      permanent: false,
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.agent.close().catch(() => undefined)
  }
}
