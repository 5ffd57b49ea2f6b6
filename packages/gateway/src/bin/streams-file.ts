import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import type { StreamInput } from '../streams.js'

const HOUR_MS = 3_600_000

/**
 * Reads the streams to create at start from `STREAMS_FILE`, YAML (`.yaml`/`.yml`, APG's
 * `streams.yaml`) or JSON: a list, `{ streams: [...] }`, or APG's map `{ streams: { <id>: {...} } }`
 * of entries (`id` or `name`, `partitions`, `retention_ms`/`retention_time_ms` or
 * `retention_hours`, `compression` or `compression_type`, `cleanup_policy`, `description`;
 * `replication_factor` is the broker's and is not read).
 * @throws {Error} naming the file and the entry that is not usable.
 */
export async function readStreamsFile(path: string): Promise<StreamInput[]> {
  let parsed: unknown
  try {
    const text = await readFile(path, 'utf8')
    parsed = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text)
  } catch (error) {
    throw new Error(`STREAMS_FILE ${path}: ${(error as Error).message}`)
  }
  let list = Array.isArray(parsed) ? parsed : (parsed as { streams?: unknown })?.streams
  if (list !== null && typeof list === 'object' && !Array.isArray(list)) {
    // APG's form: a map from stream id to its settings.
    list = Object.entries(list).map(([id, settings]) => ({ id, ...(settings as object) }))
  }
  if (!Array.isArray(list)) {
    throw new Error(`STREAMS_FILE ${path}: expected a list of streams or { "streams": ... }`)
  }
  return list.map((entry, index) => streamOf(entry, `STREAMS_FILE ${path}: entry ${index}`))
}

function streamOf(entry: unknown, where: string): StreamInput {
  if (entry === null || typeof entry !== 'object') throw new Error(`${where} is not an object`)
  const e = entry as Record<string, unknown>
  const id = e.id ?? e.name
  if (typeof id !== 'string') throw new Error(`${where} has no "id" (or "name")`)
  const stream: StreamInput = { id }
  const partitions = e.partitions
  if (partitions !== undefined) stream.partitions = positive(partitions, `${where}.partitions`)
  const retentionMs = e.retention_ms ?? e.retention_time_ms
  if (retentionMs !== undefined) stream.retentionMs = positive(retentionMs, `${where}.retention_ms`)
  else if (e.retention_hours !== undefined) {
    stream.retentionMs = positive(e.retention_hours, `${where}.retention_hours`) * HOUR_MS
  }
  const compression = e.compression ?? e.compression_type
  if (typeof compression === 'string') stream.compression = compression
  if (typeof e.cleanup_policy === 'string') stream.cleanupPolicy = e.cleanup_policy
  if (typeof e.description === 'string') stream.description = e.description
  return stream
}

function positive(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value > 0))
    throw new Error(`${where} must be a positive number`)
  return value
}
