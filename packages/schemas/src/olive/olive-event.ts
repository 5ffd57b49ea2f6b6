import { ConfigurationError, createEvent, type EventEnvelope } from '@switchyard/core'

// Olive's OliveEvent methods, as functions that return a new envelope: events are values, so
// adding context never changes an event another part of the program still holds.

/** Sets `correlationid` (Olive's `with_correlation_id`). */
export function withCorrelationId<E extends EventEnvelope>(event: E, correlationId: string): E {
  if (typeof correlationId !== 'string' || correlationId.length === 0) {
    throw new ConfigurationError('correlationId must be a non-empty string', {
      field: 'correlationId',
    })
  }
  return { ...event, correlationid: correlationId }
}

/** Sets the acting user (extension `userid`) and tenant (`tenantid`) (Olive's `with_user_context`). */
export function withUserContext<E extends EventEnvelope>(
  event: E,
  context: { userId?: string; tenantId?: string },
): E {
  const next: E = { ...event }
  if (context.userId !== undefined)
    next.extensions = { ...event.extensions, userid: context.userId }
  if (context.tenantId !== undefined) next.tenantid = context.tenantId
  return next
}

/**
 * Adds a tag to extension `tags`, a comma-separated set (Olive's `add_tag`).
 * @throws {ConfigurationError} for an empty tag or one containing a comma.
 */
export function addTag<E extends EventEnvelope>(event: E, tag: string): E {
  if (typeof tag !== 'string' || tag.length === 0 || tag.includes(',')) {
    throw new ConfigurationError('A tag must be a non-empty string without commas', {
      field: 'tag',
    })
  }
  const tags = tagsOf(event)
  if (tags.includes(tag)) return event
  return { ...event, extensions: { ...event.extensions, tags: [...tags, tag].join(',') } }
}

/** The tags of an event. */
export function tagsOf(event: EventEnvelope): string[] {
  const raw = event.extensions?.tags
  return raw === undefined || raw === '' ? [] : raw.split(',')
}

/** Olive's JSON wire shape (`OliveEvent.to_json()`), for services still on the Python SDK. */
export interface OliveEventJson {
  event_id: string
  event_type: string
  data: unknown
  metadata: {
    source_service: string
    source_version?: string
    correlation_id?: string
    user_id?: string
    tenant_id?: string
    tags?: string[]
  }
  timestamp: string
}

/** Converts an envelope to Olive's JSON shape (`to_json`). */
export function toOliveJson(event: EventEnvelope): OliveEventJson {
  const metadata: OliveEventJson['metadata'] = { source_service: event.source }
  const ext = event.extensions ?? {}
  if (ext.sourceversion !== undefined) metadata.source_version = ext.sourceversion
  if (event.correlationid !== undefined) metadata.correlation_id = event.correlationid
  if (ext.userid !== undefined) metadata.user_id = ext.userid
  if (event.tenantid !== undefined) metadata.tenant_id = event.tenantid
  const tags = tagsOf(event)
  if (tags.length > 0) metadata.tags = tags
  return {
    event_id: event.id,
    event_type: event.type,
    data: event.data,
    metadata,
    timestamp: event.time,
  }
}

/**
 * Converts Olive's JSON shape to an envelope (`from_json`).
 * @throws {ConfigurationError} when a required attribute is missing or malformed.
 */
export function fromOliveJson(json: OliveEventJson): EventEnvelope {
  if (
    json === null ||
    typeof json !== 'object' ||
    json.metadata === null ||
    typeof json.metadata !== 'object'
  ) {
    throw new ConfigurationError(
      'An Olive event needs event_id, event_type, data, metadata and timestamp',
      {
        field: 'event',
      },
    )
  }
  const { metadata } = json
  const extensions: Record<string, string> = {}
  if (metadata.source_version !== undefined) extensions.sourceversion = metadata.source_version
  if (metadata.user_id !== undefined) extensions.userid = metadata.user_id
  if (metadata.tags !== undefined && metadata.tags.length > 0)
    extensions.tags = metadata.tags.join(',')
  return createEvent({
    id: json.event_id,
    type: json.event_type,
    source: metadata.source_service,
    time: json.timestamp,
    data: json.data,
    datacontenttype: 'application/json',
    ...(metadata.correlation_id === undefined ? {} : { correlationid: metadata.correlation_id }),
    ...(metadata.tenant_id === undefined ? {} : { tenantid: metadata.tenant_id }),
    ...(Object.keys(extensions).length === 0 ? {} : { extensions }),
  })
}
