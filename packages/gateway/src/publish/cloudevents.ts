import { binaryCodec, DecodeError, type EventEnvelope, structuredCodec } from '@switchyard/core'
import { HttpProblem } from '../problem.js'

/** Structured mode media type. */
export const STRUCTURED = 'application/cloudevents+json'
/** Batch mode media type. */
export const BATCH = 'application/cloudevents-batch+json'

const binary = binaryCodec()
const structured = structuredCodec()

/** True when the request uses the CloudEvents HTTP binary mode (a `ce-specversion` header). */
export function isBinaryMode(headers: Record<string, unknown>): boolean {
  return typeof headers['ce-specversion'] === 'string'
}

/**
 * The event of a binary-mode request: `ce-*` headers (percent-decoded) and the body as data,
 * decoded by core's codec exactly as a broker message would be.
 * @throws {HttpProblem} 400 when a required attribute is missing or the data does not parse.
 */
export function fromBinary(headers: Record<string, unknown>, body: Buffer): EventEnvelope {
  const strings: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue
    if (name.startsWith('ce-') || name === 'content-type') strings[name] = value
  }
  return decode(() => binary.decode({ headers: strings, body, timestamp: Date.now() }))
}

/** The event of a structured-mode body (`application/cloudevents+json`). */
export function fromStructured(body: Buffer): EventEnvelope {
  return decode(() =>
    structured.decode({ headers: { 'content-type': STRUCTURED }, body, timestamp: Date.now() }),
  )
}

/** The events of a batch-mode body: a JSON array of structured events. */
export function fromBatch(parsed: unknown): EventEnvelope[] {
  if (!Array.isArray(parsed)) {
    throw new HttpProblem(400, 'A CloudEvents batch body must be a JSON array of events')
  }
  if (parsed.length === 0) throw new HttpProblem(400, 'A CloudEvents batch must hold an event')
  return parsed.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new HttpProblem(400, `Batch item ${index} is not a JSON object`)
    }
    try {
      return fromStructured(Buffer.from(JSON.stringify(item)))
    } catch (error) {
      if (error instanceof HttpProblem) {
        throw new HttpProblem(400, `Batch item ${index}: ${error.message}`)
      }
      throw error
    }
  })
}

function decode(run: () => EventEnvelope): EventEnvelope {
  try {
    return run()
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new HttpProblem(400, `Not a valid CloudEvent: ${error.message}`)
    }
    throw error
  }
}
