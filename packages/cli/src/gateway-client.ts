import { ConnectionError, SchemaValidationError, TimeoutError } from '@switchyard/core'
import type { Context } from './context.js'
import { NotFoundError, UsageError } from './exit-codes.js'

/** A call to the gateway named by `--gateway`, with `--token` (or `SWITCHYARD_TOKEN`). */
export async function gatewayCall(
  ctx: Context,
  path: string,
  init: { method?: string; body?: string; contentType?: string } = {},
): Promise<unknown> {
  const base = ctx.options.gateway
  if (base === undefined) throw new UsageError('--gateway is not set')
  let url: URL
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`)
  } catch {
    throw new UsageError(`--gateway "${base}" is not a URL: use https://host[:port]`, {
      field: 'gateway',
    })
  }
  const token = ctx.options.token ?? ctx.io.env.SWITCHYARD_TOKEN
  if (token === undefined || token === '')
    throw new UsageError('--gateway needs a token: pass --token or set SWITCHYARD_TOKEN')
  const headers: Record<string, string> = { authorization: `Bearer ${token}` }
  if (init.contentType !== undefined) headers['content-type'] = init.contentType
  let response: Response
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      signal: AbortSignal.timeout(ctx.timeoutMs),
      ...(init.body === undefined ? {} : { body: init.body }),
    })
  } catch (error) {
    if ((error as Error).name === 'TimeoutError')
      throw new TimeoutError(
        `The gateway at ${url.origin} did not answer within ${ctx.timeoutMs} ms`,
        {
          timeoutMs: ctx.timeoutMs,
        },
      )
    throw new ConnectionError(`Cannot reach the gateway at ${url.origin}`, { cause: error })
  }
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  if (response.ok) return body
  throw problem(response.status, body, url.origin)
}

function problem(status: number, body: unknown, origin: string): Error {
  const detail =
    body !== null && typeof body === 'object' && 'detail' in body
      ? String((body as { detail: unknown }).detail)
      : `HTTP ${status}`
  const message = `The gateway at ${origin} answered ${status}: ${detail}`
  if (status === 401 || status === 403) return new ConnectionError(message, { retryable: false })
  if (status === 404) return new NotFoundError(message)
  if (status === 422) {
    const issues = (body as { issues?: { path: string; message: string }[] }).issues ?? []
    return new SchemaValidationError(issues, { message })
  }
  if (status === 400 || status === 413 || status === 415) return new UsageError(message)
  return new Error(message)
}
