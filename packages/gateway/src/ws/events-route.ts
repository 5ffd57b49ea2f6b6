import { type EventEnvelope, typeMatcher } from '@switchyard/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { type Principal, requireRole } from '../auth.js'
import { HttpProblem } from '../problem.js'
import { STREAM_ID_PATTERN } from '../streams.js'
import { LiveClient } from './client.js'
import { eventFrame, type LiveEvent, type LiveHub } from './hub.js'
import { CLOSE, type ResolvedLiveOptions } from './options.js'
import { parseResume, type ResumeFrom, type ResumeQuery, replay } from './resume.js'
import { authenticateUpgrade } from './ws-auth.js'

/** What the upgrade's hooks established, for the socket handler. */
interface Setup {
  principal: Principal
  stream: string
  types: string[] | undefined
  from: ResumeFrom | undefined
}

/** Connections of the gateway and what happened to them, shared with `/ws/monitoring`. */
export interface LiveRegistry {
  readonly clients: Set<LiveClient>
  /** Clients disconnected for being too slow. */
  overflows: number
}

const QUERY = {
  type: 'object',
  properties: {
    types: { type: 'string', description: 'Comma-separated type globs (order.*, user.created)' },
    from: { type: 'string', enum: ['earliest', 'latest'] },
    after_id: { type: 'string', minLength: 1 },
    from_sequence: { type: 'string', minLength: 1 },
    from_time: { type: 'string', minLength: 1 },
  },
} as const

function parseTypes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined
  const types = raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
  if (types.length === 0) throw new HttpProblem(400, 'types must list at least one type glob')
  return types
}

/** Which events a connection may see and asked for. */
function filterOf(setup: Setup): (event: EventEnvelope) => boolean {
  const tenant = setup.principal.tenant
  const match = setup.types === undefined ? undefined : typeMatcher(setup.types)
  return (event) =>
    (tenant === undefined || event.tenantid === tenant) &&
    (match === undefined || match(event.type))
}

/**
 * `GET /ws/events/{stream}`: the stream's events as they are published, one JSON text frame per
 * event, filtered to the token's tenant and the `types` globs; optionally first the retained
 * events after a resume point (`from=earliest`, `after_id`, `from_sequence`, `from_time`).
 */
export function eventsRoute(
  app: FastifyInstance,
  hub: LiveHub,
  registry: LiveRegistry,
  options: ResolvedLiveOptions,
): void {
  const ctx = app.switchyard
  const setups = new WeakMap<FastifyRequest, Setup>()

  async function serve(socket: WebSocket, setup: Setup): Promise<void> {
    const client = new LiveClient(socket, options, () => registry.overflows++)
    const visible = filterOf(setup)
    // Live events that arrive while a replay is being sent wait here, bounded like the socket.
    let held: LiveEvent[] | undefined = setup.from === undefined ? undefined : []
    const listener = (live: LiveEvent): void => {
      if (!visible(live.event)) return
      if (held === undefined) {
        client.send(live.frame)
        return
      }
      if (held.length >= options.maxBufferedMessages) {
        registry.overflows++
        client.close(CLOSE.slowConsumer, 'slow consumer: live events overflowed during the replay')
      } else {
        held.push(live)
      }
    }
    let stop: (() => void) | undefined
    socket.once('close', () => {
      stop?.()
      registry.clients.delete(client)
    })
    // Frames from the client carry nothing the gateway acts on.
    socket.on('message', () => undefined)
    try {
      stop = await hub.listen(setup.stream, listener)
    } catch (error) {
      app.log.warn({ error: (error as Error).name, stream: setup.stream }, 'live subscribe failed')
      client.close(CLOSE.brokerError, 'the stream could not be subscribed at the broker')
      return
    }
    if (client.closed) {
      stop()
      return
    }
    registry.clients.add(client)
    client.send(
      JSON.stringify({
        type: 'subscribed',
        stream: setup.stream,
        tenant: setup.principal.tenant ?? null,
        types: setup.types ?? null,
        resume: setup.from ?? null,
      }),
    )
    if (setup.from !== undefined) await sendReplay(client, setup, setup.from, () => held)
    const waiting = held ?? []
    held = undefined
    for (const live of waiting) client.send(live.frame)
  }

  async function sendReplay(
    client: LiveClient,
    setup: Setup,
    from: ResumeFrom,
    held: () => LiveEvent[] | undefined,
  ): Promise<void> {
    let found: Awaited<ReturnType<typeof replay>>
    try {
      found = await replay(ctx, setup.stream, from, options.resumeMax)
    } catch (error) {
      const detail = error instanceof HttpProblem ? error.message : 'reading retained events failed'
      client.close(CLOSE.brokerError, detail)
      return
    }
    if (!found.found) {
      client.close(
        CLOSE.resumeNotFound,
        `after_id not among the ${found.scanned} oldest retained events`,
      )
      return
    }
    const visible = filterOf(setup)
    const sent = new Set<string>()
    let count = 0
    for (const { event, sequence } of found.events) {
      if (!visible(event)) continue
      if (!(await client.sendPaced(eventFrame(setup.stream, event, sequence)))) return
      sent.add(event.id)
      count++
    }
    // Live events that the replay already sent are dropped from what waits.
    const waiting = held()
    if (waiting !== undefined) {
      const fresh = waiting.filter((live) => !sent.has(live.event.id))
      waiting.splice(0, waiting.length, ...fresh)
    }
    client.send(
      JSON.stringify({
        type: 'replayed',
        count,
        scanned: found.scanned,
        complete: found.complete,
        ...(found.complete
          ? {}
          : { detail: `only the ${found.scanned} oldest retained events were read` }),
      }),
    )
  }

  app.get(
    '/ws/events/:stream',
    {
      websocket: true,
      // Authenticated below: a browser sends its token as a subprotocol, not a header.
      config: { public: true },
      schema: {
        params: {
          type: 'object',
          required: ['stream'],
          properties: { stream: { type: 'string', pattern: STREAM_ID_PATTERN } },
        },
        querystring: QUERY,
      },
      onRequest: async (request) => {
        await authenticateUpgrade(ctx, request)
      },
      preHandler: async (request) => {
        const principal = request.principal!
        const { stream } = request.params as { stream: string }
        const query = request.query as ResumeQuery & { types?: string }
        requireRole(principal, 'subscriber', stream)
        if ((await ctx.streams.get(stream)) === undefined) {
          throw new HttpProblem(404, `Stream "${stream}" does not exist`)
        }
        setups.set(request, {
          principal,
          stream,
          types: parseTypes(query.types),
          from: parseResume(query),
        })
      },
    },
    async (socket, request) => {
      const setup = setups.get(request)
      if (setup === undefined) {
        socket.close(1011, 'connection was not set up')
        return
      }
      await serve(socket, setup)
    },
  )
}
