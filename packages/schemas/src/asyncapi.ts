import { ConfigurationError } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import type { Catalog, EventDefinition, JsonSchemaObject } from './catalog.js'

/** An AsyncAPI server: where the broker listens. */
export interface AsyncApiServer {
  /** `host:port`, e.g. `127.0.0.1:9092`. */
  host: string
  /** `kafka`, `nats`, `redis`, `amqp`, ... */
  protocol: string
  /** Optional path part of the URL. */
  pathname?: string
  /** What this server is. */
  description?: string
}

/** Options of `toAsyncApi`. */
export interface AsyncApiOptions {
  /** Servers by name, e.g. `{ local: { host: '127.0.0.1:9092', protocol: 'kafka' } }`. */
  servers: Record<string, AsyncApiServer>
  /** Whether the described application sends or receives the events. @default 'send' */
  action?: 'send' | 'receive'
  /** Document title. @default the catalog title */
  title?: string
  /** Document version. @default the catalog version */
  version?: string
}

/** An AsyncAPI 3.0 document as a plain JSON value. */
export interface AsyncApiDocument {
  asyncapi: '3.0.0'
  info: { title: string; version: string; description: string }
  defaultContentType: string
  servers: Record<string, AsyncApiServer>
  channels: Record<string, unknown>
  operations: Record<string, unknown>
}

const KEY = /[^A-Za-z0-9_.-]/g
// 2020-12 keywords with a draft-07 spelling; the AsyncAPI parser validates payloads as draft-07.
const SKIP = new Set(['examples', 'enum', 'const', 'default'])

/**
 * Describes a catalog as an AsyncAPI 3.0 document: a channel per topic (`{name}` placeholders
 * become channel parameters), a message per event type and version with its payload schema,
 * CloudEvents binary-mode headers and examples, and one operation per channel.
 * @throws {ConfigurationError} when no server is given.
 * @example writeFileSync('olive.asyncapi.json', JSON.stringify(toAsyncApi(oliveCatalog, { servers })))
 */
export function toAsyncApi(catalog: Catalog, options: AsyncApiOptions): AsyncApiDocument {
  checkKeys(options, ['servers', 'action', 'title', 'version'], 'toAsyncApi')
  if (
    options.servers === null ||
    typeof options.servers !== 'object' ||
    Object.keys(options.servers).length === 0
  ) {
    throw new ConfigurationError('toAsyncApi needs at least one server', { field: 'servers' })
  }
  const channels: Record<
    string,
    { address: string; messages: Record<string, unknown>; parameters?: unknown }
  > = {}
  const operations: Record<string, unknown> = {}
  const action = options.action ?? 'send'
  for (const def of catalog.events) {
    const channelId = def.topic.replace(/[{}]/g, '').replace(KEY, '_')
    channels[channelId] ??= { address: def.topic, messages: {}, ...parametersOf(def.topic) }
    const channel = channels[channelId]
    const messageId = `${def.type}.v${def.version}`.replace(KEY, '_')
    channel.messages[messageId] = message(def)
    const operationId = `${action}_${channelId}`
    operations[operationId] ??= {
      action,
      channel: { $ref: `#/channels/${channelId}` },
      summary: `${action === 'send' ? 'Publishes' : 'Consumes'} events on ${def.topic}.`,
      messages: [],
    }
    const operation = operations[operationId] as { messages: unknown[] }
    operation.messages.push({ $ref: `#/channels/${channelId}/messages/${messageId}` })
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title ?? catalog.title,
      version: options.version ?? catalog.version,
      description: catalog.description,
    },
    defaultContentType: 'application/json',
    servers: options.servers,
    channels,
    operations,
  }
}

function parametersOf(address: string): { parameters?: Record<string, { description: string }> } {
  const names = [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
  if (names.length === 0) return {}
  return {
    parameters: Object.fromEntries(
      names.map((n) => [n, { description: `The ${n} segment of the topic.` }]),
    ),
  }
}

function message(def: EventDefinition): Record<string, unknown> {
  const examples = Array.isArray(def.schema.examples) ? (def.schema.examples as unknown[]) : []
  return {
    name: def.type,
    title: `${def.type} v${def.version}`,
    summary: def.summary,
    contentType: 'application/json',
    headers: headers(def),
    payload: {
      schemaFormat: 'application/schema+json;version=draft-07',
      schema: toDraft07(def.schema),
    },
    ...(examples.length === 0 ? {} : { examples: examples.map((payload) => ({ payload })) }),
  }
}

// CloudEvents binary content mode: the attributes travel as `ce_*` headers (Kafka binding).
function headers(def: EventDefinition): JsonSchemaObject {
  const text = { type: 'string' }
  return {
    type: 'object',
    properties: {
      ce_specversion: { const: '1.0' },
      ce_id: text,
      ce_source: text,
      ce_type: def.type.includes('*') ? text : { const: def.type },
      ce_time: { type: 'string', format: 'date-time' },
      ce_subject: text,
      ce_dataschema: { const: def.id },
      ce_tenantid: text,
      ce_correlationid: text,
      ce_causationid: text,
      ce_partitionkey: text,
      ce_traceparent: text,
      'content-type': { const: 'application/json' },
    },
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type'],
  }
}

function toDraft07(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDraft07)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key === '$schema') continue
    if (key === 'dependentRequired') out.dependencies = child
    else if (key === '$defs') out.definitions = toDraft07(child)
    else out[key] = SKIP.has(key) ? child : toDraft07(child)
  }
  return out
}
