import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth.js'
import { HttpProblem } from '../problem.js'

/** The verified caller of a protected route. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new HttpProblem(401, 'This route needs a bearer token')
  return request.principal
}

/** RFC 9457 body, for the OpenAPI document. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    problems: { type: 'array', items: { type: 'string' } },
  },
} as const

/** The error answers every protected route can give. */
export const PROBLEMS = {
  '4xx': PROBLEM_SCHEMA,
  '5xx': PROBLEM_SCHEMA,
} as const

/** 202 body of the publish routes. */
export const ACCEPTED = {
  type: 'object',
  description: 'Accepted: the broker confirmed every event',
  properties: {
    status: { type: 'string' },
    event_id: { type: 'string' },
    event_ids: { type: 'array', items: { type: 'string' } },
  },
} as const
