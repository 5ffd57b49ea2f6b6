import type { EventEnvelope, EventInput } from '@switchyard/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type Principal, requireRole } from '../auth.js'
import type { GatewayContext } from '../context.js'
import { HttpProblem } from '../problem.js'
import { fromAnumate } from '../publish/anumate.js'
import {
  ANUMATE_EVENT_SCHEMA,
  APG_BATCH_SCHEMA,
  APG_EVENT_SCHEMA,
  checkBody,
  fromApg,
  fromApgBatch,
} from '../publish/apg.js'
import {
  BATCH,
  fromBatch,
  fromBinary,
  fromStructured,
  isBinaryMode,
  STRUCTURED,
} from '../publish/cloudevents.js'
import type { Outgoing } from '../publish/outgoing.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { ACCEPTED, PROBLEMS, principalOf } from './common.js'

/**
 * Publishes, in order per stream, once every event passed the role, tenant, stream and schema
 * checks (nothing is sent when one fails); resolves with the ids after the broker confirmed.
 */
export async function publishAll(
  ctx: GatewayContext,
  principal: Principal,
  items: Outgoing[],
): Promise<string[]> {
  for (const item of items) {
    requireRole(principal, 'publisher', item.stream)
    stampTenant(principal, item.event)
    if (!ctx.streams.known(item.stream)) await ctx.streams.forPublish(item.stream, principal)
    const { type, data } = item.event
    if (ctx.schemas.registry.has(type)) {
      ctx.schemas.registry.validate(type, data, { dataschema: item.event.dataschema })
    }
  }
  if (items.length === 1) {
    const { stream, event } = items[0]!
    const sent = await ctx.bus.publish(stream, event)
    ctx.streams.published(stream, sent.tenantid, 1)
    return [sent.id]
  }
  const byStream = new Map<string, number[]>()
  items.forEach((item, index) => {
    const list = byStream.get(item.stream) ?? []
    list.push(index)
    byStream.set(item.stream, list)
  })
  const ids: string[] = new Array(items.length)
  await Promise.all(
    [...byStream].map(async ([stream, indexes]) => {
      const events = indexes.map((i) => items[i]!.event)
      const sent: EventEnvelope[] =
        events.length === 1
          ? [await ctx.bus.publish(stream, events[0]!)]
          : await ctx.bus.publishBatch(stream, events)
      sent.forEach((event, k) => {
        ids[indexes[k]!] = event.id
      })
      for (const event of sent) ctx.streams.published(stream, event.tenantid, 1)
    }),
  )
  return ids
}

/** A tenant-scoped token publishes for its tenant only: stamped when absent, 403 when another. */
function stampTenant(principal: Principal, event: EventInput): void {
  if (principal.tenant === undefined) return
  if (event.tenantid === undefined) event.tenantid = principal.tenant
  else if (event.tenantid !== principal.tenant) {
    throw new HttpProblem(
      403,
      `This token is scoped to tenant "${principal.tenant}" and cannot publish for tenant "${event.tenantid}"`,
    )
  }
}

/** A request body: text for `application/json`, bytes for every other media type. */
type Body = Buffer | string

function bytesOf(body: Body): Buffer {
  return typeof body === 'string' ? Buffer.from(body) : body
}

function parseJson(body: Body): unknown {
  if (body.length === 0) throw new HttpProblem(400, 'The request body is empty')
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch {
    throw new HttpProblem(400, 'The request body is not valid JSON')
  }
}

// Clients send the same content-type header on every request: the last one read is remembered.
let lastContentType = ''
let lastMediaType = ''

function mediaType(request: FastifyRequest): string {
  const header = request.headers['content-type'] ?? ''
  if (header !== lastContentType) {
    lastMediaType = header.split(';', 1)[0]!.trim().toLowerCase()
    lastContentType = header
  }
  return lastMediaType
}

/** The 202 body of the publish routes, written without a serializer pass (ids are UUID-like). */
function accepted(reply: FastifyReply, ids: string[]): FastifyReply {
  const list = JSON.stringify(ids)
  const first = ids.length === 0 ? '' : `"event_id":${JSON.stringify(ids[0])},`
  return reply
    .code(202)
    .header('content-type', 'application/json; charset=utf-8')
    .send(`{"status":"accepted",${first}"event_ids":${list}}`)
}

function streamParam(request: FastifyRequest): string {
  const stream = (request.query as { stream_id?: string }).stream_id
  if (stream === undefined || stream === '') {
    throw new HttpProblem(400, 'A CloudEvents request names its stream with ?stream_id=<stream>')
  }
  return stream
}

/** The events of one `POST /api/v1/events` request, by content mode. */
function eventsOf(request: FastifyRequest, body: Body): Outgoing[] {
  if (isBinaryMode(request.headers)) {
    return [{ stream: streamParam(request), event: fromBinary(request.headers, bytesOf(body)) }]
  }
  const type = mediaType(request)
  if (type === STRUCTURED)
    return [{ stream: streamParam(request), event: fromStructured(bytesOf(body)) }]
  if (type === BATCH) {
    const stream = streamParam(request)
    return fromBatch(parseJson(body)).map((event) => ({ stream, event }))
  }
  if (type === 'application/json') {
    const parsed = parseJson(body)
    checkBody('apg.event', parsed)
    return [fromApg(parsed)]
  }
  throw new HttpProblem(
    415,
    `Content type "${type || 'none'}" is not accepted: send application/json (APG event), ${STRUCTURED}, ${BATCH}, or a CloudEvents binary-mode request (ce-* headers)`,
  )
}

function jsonOnly(request: FastifyRequest, body: Body): unknown {
  const type = mediaType(request)
  if (type !== 'application/json') {
    throw new HttpProblem(
      415,
      `Content type "${type || 'none'}" is not accepted: send application/json`,
    )
  }
  return parseJson(body)
}

const streamQuery = {
  type: 'object',
  properties: { stream_id: { type: 'string', pattern: STREAM_ID_PATTERN } },
} as const

/** The publish routes: APG (single and batch), the CloudEvents HTTP binding and Anumate's route. */
export function eventRoutes(app: FastifyInstance, _options: unknown, done: () => void): void {
  // Bodies are read as bytes and parsed here: the CloudEvents binary mode carries data of any
  // media type, and the content mode decides how the bytes are read.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  // JSON bodies are read as text: it spares a copy into one buffer before the parse.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  )
  const ctx = app.switchyard
  const noBodyValidation = () => () => true
  app.post(
    '/api/v1/events',
    {
      validatorCompiler: noBodyValidation,
      schema: {
        summary: 'Publish one event (APG shape) or CloudEvents (binary, structured, batch)',
        tags: ['events'],
        querystring: streamQuery,
        body: {
          content: {
            'application/json': { schema: APG_EVENT_SCHEMA },
            [STRUCTURED]: { schema: { type: 'object', description: 'A structured CloudEvent' } },
            [BATCH]: { schema: { type: 'array', items: { type: 'object' } } },
          },
        },
        response: { 202: ACCEPTED, ...PROBLEMS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const ids = await publishAll(ctx, principal, eventsOf(request, request.body as Body))
      return accepted(reply, ids)
    },
  )
  app.post(
    '/api/v1/events/batch',
    {
      validatorCompiler: noBodyValidation,
      schema: {
        summary: 'Publish a batch of APG events',
        tags: ['events'],
        body: { content: { 'application/json': { schema: APG_BATCH_SCHEMA } } },
        response: { 202: ACCEPTED, ...PROBLEMS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const items = fromApgBatch(jsonOnly(request, request.body as Body))
      const ids = await publishAll(ctx, principal, items)
      return accepted(reply, ids)
    },
  )
  app.post(
    '/events/publish',
    {
      validatorCompiler: noBodyValidation,
      schema: {
        summary: "Publish one event (Anumate's event bus service shape)",
        tags: ['events'],
        querystring: { type: 'object', properties: { source: { type: 'string', minLength: 1 } } },
        body: { content: { 'application/json': { schema: ANUMATE_EVENT_SCHEMA } } },
        response: { 202: ACCEPTED, ...PROBLEMS },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request)
      const { source } = request.query as { source?: string }
      const item = fromAnumate(jsonOnly(request, request.body as Body), source)
      const ids = await publishAll(ctx, principal, [item])
      return accepted(reply, ids)
    },
  )
  done()
}
