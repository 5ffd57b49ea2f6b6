import {
  ConfigurationError,
  SchemaValidationError,
  SwitchyardError,
  type ValidationIssue,
} from '@switchyard/core'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'

/** Media type of every error body (RFC 9457). */
export const PROBLEM_TYPE = 'application/problem+json'

/** An RFC 9457 problem document as the gateway writes it. */
export interface ProblemBody {
  /** A URI naming the kind of problem; `about:blank` when the status says it all. */
  type: string
  /** Short summary of the kind of problem (the HTTP reason phrase). */
  title: string
  /** HTTP status. */
  status: number
  /** What went wrong with this request, in words a client can act on. */
  detail: string
  /** Failing paths of an invalid body or event (422, 400). */
  issues?: ValidationIssue[]
  /** Compatibility problems of a refused schema version (409). */
  problems?: string[]
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
}

/**
 * An error a route throws to answer with a problem document. Its `detail` is sent as it is, so
 * it must never contain a token, a secret or a stack trace.
 */
export class HttpProblem extends SwitchyardError {
  /** HTTP status to answer with. */
  readonly status: number
  /** Extra members of the problem document. */
  readonly extra: Partial<Pick<ProblemBody, 'issues' | 'problems'>>
  /** Headers to add (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Record<string, string>

  constructor(
    status: number,
    detail: string,
    options: {
      extra?: Partial<Pick<ProblemBody, 'issues' | 'problems'>>
      headers?: Record<string, string>
    } = {},
  ) {
    // Busy (429) and server-side (5xx) answers may succeed when tried again; client errors not.
    super(detail, { code: `ERR_HTTP_${status}`, retryable: status === 429 || status >= 500 })
    this.status = status
    this.extra = options.extra ?? {}
    this.headers = options.headers ?? {}
  }
}

/** Builds a problem document. */
export function problem(status: number, detail: string, extra: object = {}): ProblemBody {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...extra }
}

/** Sends a problem document. */
export function sendProblem(reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply.code(body.status).type(PROBLEM_TYPE).send(body)
}

/** Fastify's own errors whose message is safe to show and says what was wrong. */
const FASTIFY_CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the limit of this gateway',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This route does not accept the request content type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request declares a JSON body but sends none',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
}

/** The problem document for any error a route or Fastify raised. */
export function problemOf(error: unknown): { body: ProblemBody; headers: Record<string, string> } {
  if (error instanceof HttpProblem) {
    return { body: problem(error.status, error.message, error.extra), headers: error.headers }
  }
  if (error instanceof SchemaValidationError) {
    return {
      body: problem(422, `The event data does not match its schema: ${error.message}`, {
        issues: error.issues,
      }),
      headers: {},
    }
  }
  if (error instanceof ConfigurationError) {
    return { body: problem(400, `Invalid event: ${error.message}`), headers: {} }
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown[] }
  if (Array.isArray(fastifyError.validation)) {
    return { body: problem(400, `Invalid request: ${fastifyError.message}`), headers: {} }
  }
  const code = fastifyError.code
  if (code !== undefined && FASTIFY_CLIENT_ERRORS[code] !== undefined) {
    const status = fastifyError.statusCode ?? 400
    return { body: problem(status, FASTIFY_CLIENT_ERRORS[code]!), headers: {} }
  }
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { body: problem(400, 'The request body is not valid JSON'), headers: {} }
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { body: problem(status, fastifyError.message ?? 'Bad request'), headers: {} }
  }
  if (error instanceof SwitchyardError && error.retryable) {
    return {
      body: problem(503, `The broker is not available right now (${error.name}); try again`),
      headers: { 'retry-after': '1' },
    }
  }
  return { body: problem(500, 'The gateway failed to handle the request'), headers: {} }
}

/**
 * Answers every error of the gateway's routes with a problem document; 5xx are logged with the
 * error's name and message only (no stack, no request headers).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { body, headers } = problemOf(error)
    if (body.status >= 500) {
      const err = error as Error
      request.log.error({ error: err.name, message: err.message }, 'request failed')
    }
    for (const [name, value] of Object.entries(headers)) reply.header(name, value)
    return sendProblem(reply, body)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, `No route ${request.method} ${request.url.split('?')[0]}`)),
  )
}
