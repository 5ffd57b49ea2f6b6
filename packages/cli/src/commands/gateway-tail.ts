import type { EventEnvelope } from '@switchyard/core'
import { ConnectionError } from '@switchyard/core'
import WebSocket from 'ws'
import type { Context } from '../context.js'
import { NotFoundError, UsageError } from '../exit-codes.js'
import { note } from '../io.js'
import type { TailFrom } from '../tail-reader.js'

/** A frame of the gateway's `/ws/events/{stream}` route. */
interface Frame {
  type: string
  sequence?: string
  event?: EventEnvelope
}

function query(from: TailFrom, types: string | undefined): URLSearchParams {
  const q = new URLSearchParams()
  if (types !== undefined) q.set('types', types)
  if (from.kind === 'earliest') q.set('from', 'earliest')
  else if (from.kind === 'time') q.set('from_time', new Date(from.ms).toISOString())
  else if (from.kind === 'position') q.set('from_sequence', from.position)
  return q
}

/**
 * `tail` through a gateway's `/ws/events/{stream}`: the gateway reads the stream in its own
 * group and fans events out, so no group of the stream loses one. Resolves when `signal` aborts
 * or `show` returns false; rejects when the gateway refuses or drops the connection.
 */
export function gatewayTail(
  ctx: Context,
  topic: string,
  options: { from: TailFrom; types: string | undefined },
  show: (event: EventEnvelope, position: string | null) => boolean,
): Promise<void> {
  const base = new URL(ctx.options.gateway!)
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:'
  const url = new URL(
    `ws/events/${encodeURIComponent(topic)}`,
    base.href.endsWith('/') ? base : `${base}/`,
  )
  url.search = query(options.from, options.types).toString()
  const token = ctx.options.token ?? ctx.io.env.SWITCHYARD_TOKEN
  if (token === undefined || token === '')
    throw new UsageError('--gateway needs a token: pass --token or set SWITCHYARD_TOKEN')
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    const stop = () => socket.close(1000)
    ctx.io.signal.addEventListener('abort', stop, { once: true })
    const finish = (error?: Error) => {
      ctx.io.signal.removeEventListener('abort', stop)
      if (error === undefined) resolve()
      else reject(error)
      socket.terminate()
    }
    socket.on('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      response.on('end', () => {
        let detail = `HTTP ${response.statusCode}`
        try {
          detail = (JSON.parse(body) as { detail?: string }).detail ?? detail
        } catch {}
        const message = `The gateway at ${url.origin} answered ${response.statusCode}: ${detail}`
        const status = response.statusCode ?? 0
        finish(
          status === 404
            ? new NotFoundError(message)
            : status === 400
              ? new UsageError(message)
              : new ConnectionError(message, { retryable: false }),
        )
      })
    })
    socket.on('open', () =>
      note(ctx.io, `tail: reading "${topic}" through the gateway at ${url.origin}; Ctrl-C to stop`),
    )
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      if (frame.type !== 'event' || frame.event === undefined) return
      if (!show(frame.event, frame.sequence ?? null)) stop()
    })
    socket.on('error', (error) =>
      finish(new ConnectionError(`Cannot reach the gateway at ${url.origin}`, { cause: error })),
    )
    socket.on('close', (code, reason) => {
      if (code === 1000 || ctx.io.signal.aborted) finish()
      else
        finish(
          code === 4404
            ? new NotFoundError(`The gateway closed the tail: ${reason.toString()}`)
            : new ConnectionError(`The gateway closed the tail (${code} ${reason.toString()})`, {
                retryable: false,
              }),
        )
    })
  })
}
