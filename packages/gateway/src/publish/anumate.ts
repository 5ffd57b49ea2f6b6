import type { EventInput } from '@switchyard/core'
import { anumateCatalog } from '@switchyard/schemas/anumate'
import { checkBody } from './apg.js'
import { DEFAULT_SOURCE, type Outgoing } from './outgoing.js'

const topics = new Map(anumateCatalog.events.map((def) => [def.type, def.topic]))

/** Stream of Anumate events whose type is not in the catalog and that name no stream. */
export const ANUMATE_DEFAULT_STREAM = 'anumate.events'

/**
 * Anumate's `POST /events/publish?source=...` body as an envelope. The stream is the body's
 * `stream_id`, else the catalog topic of the type, else `anumate.events`.
 */
export function fromAnumate(body: unknown, source: string | undefined): Outgoing {
  checkBody('anumate.event', body)
  const b = body as {
    event_type: string
    data: unknown
    tenant_id?: string
    correlation_id?: string
    causation_id?: string
    subject?: string
    stream_id?: string
  }
  const event: EventInput = { type: b.event_type, source: source ?? DEFAULT_SOURCE, data: b.data }
  if (b.tenant_id !== undefined) event.tenantid = b.tenant_id
  if (b.correlation_id !== undefined) event.correlationid = b.correlation_id
  if (b.causation_id !== undefined) event.causationid = b.causation_id
  if (b.subject !== undefined) {
    event.subject = b.subject
    event.partitionkey = b.subject
  }
  const stream = b.stream_id ?? topics.get(b.event_type) ?? ANUMATE_DEFAULT_STREAM
  return { stream, event }
}
