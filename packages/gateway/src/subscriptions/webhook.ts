import { isIP } from 'node:net'
import type { EventEnvelope } from '@switchyard/core'
import { Agent, type Dispatcher } from 'undici'
import { httpMessage } from './cloudevents-http.js'
import type { SubscriptionDefinition } from './definition.js'
import type { ResolvedSubscriptionOptions } from './options.js'
import { signingKey, signWith } from './signing.js'
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

/** What the receiver answered. */
interface Answer {
  status: number
  /** `Retry-After` of a 429 or 503. */
  retryAfter: string | undefined
  /** The start of a failed response's body, control characters removed. */
  excerpt: string
}

function excerptOf(chunks: readonly Buffer[], max: number): string {
  const text = Buffer.concat(chunks).subarray(0, max).toString('utf8')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
}

/** Stops reading a failed response once its excerpt is complete (never shown). */
const EXCERPT_COMPLETE = new Error('excerpt complete')

/**
 * One POST's answer, read by a dispatch handler: a 2xx ends with its status alone (no response
 * stream, header object or async resource, the per-response work of undici's `request` that
 * webhook delivery does not use); a failure keeps `Retry-After` and the first bytes of its body.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  private status = 0
  private retryAfter: string | undefined
  private chunks: Buffer[] | undefined
  private size = 0
  private done = false

  constructor(
    private readonly max: number,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onRequestStart(): void {}

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx answers are followed by the real one.
    if (statusCode < 200) return
    this.status = statusCode
    if (statusCode >= 300) {
      this.chunks = []
      if (statusCode === 429 || statusCode === 503) {
        const value = headers['retry-after']
        this.retryAfter = Array.isArray(value) ? value[0] : value
      }
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks === undefined || this.done) return
    this.chunks.push(chunk)
    this.size += chunk.length
    if (this.size >= this.max) {
      this.finish()
      controller.abort(EXCERPT_COMPLETE)
    }
  }

  onResponseEnd(): void {
    this.finish()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.done) return
    // A body cut short after the status still has its status and first bytes to show.
    if (this.status !== 0) this.finish()
    else {
      this.done = true
      this.reject(error)
    }
  }

  private finish(): void {
    if (this.done) return
    this.done = true
    const excerpt = this.chunks === undefined ? '' : excerptOf(this.chunks, this.max)
    this.resolve({ status: this.status, retryAfter: this.retryAfter, excerpt })
  }
}

/**
 * POSTs events to webhooks through one undici `Agent`: keep-alive connections per origin, a
 * connect-time address check (the SSRF guard's `lookup`), and a per-request timeout.
 */
export class WebhookSender {
  private readonly agent: Agent
  private readonly targets = new Map<string, Target>()
  private readonly keys = new Map<string, Buffer>()

  constructor(
    private readonly guard: TargetGuard,
    private readonly options: ResolvedSubscriptionOptions,
  ) {
    this.agent = new Agent({
      connections: options.maxConnectionsPerOrigin,
      connect: { lookup: guard.lookup },
    })
  }

  /** Most `Retry-After` waits per event that use up no attempt (`webhooks.maxRetryAfterWaits`). */
  get maxRetryAfterWaits(): number {
    return this.options.maxRetryAfterWaits
  }

  /** The HMAC key of a secret, decoded once. */
  private key(secret: string): Buffer {
    let key = this.keys.get(secret)
    if (key === undefined) {
      key = signingKey(secret)
      if (this.keys.size > 10_000) this.keys.clear()
      this.keys.set(secret, key)
    }
    return key
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
    headers['webhook-signature'] = signWith(this.key(definition.secret), event.id, timestamp, body)
    headers['user-agent'] = this.options.userAgent
    const timeoutMs = definition.timeoutMs
    let answer: Answer
    try {
      answer = await new Promise<Answer>((resolve, reject) => {
        const handler = new AnswerHandler(this.options.bodyExcerptBytes, resolve, reject)
        this.agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: 'POST',
            headers,
            body,
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          handler,
        )
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
    const { status, excerpt } = answer
    if (status >= 200 && status < 300) return { ok: true, status }
    const after = retryAfterMs(answer.retryAfter)
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
