import { SwitchyardError } from '@switchyard/core'

/** What `append` expects of the stream: any state, no stream yet, an existing stream, or a version. */
export type ExpectedVersion = 'any' | 'no_stream' | 'exists' | number

function describe(expected: ExpectedVersion): string {
  if (expected === 'no_stream') return 'no stream'
  if (expected === 'exists') return 'an existing stream'
  if (expected === 'any') return 'any version'
  return `version ${expected}`
}

/**
 * An append found the stream in another state than its `expectedVersion`: another writer got
 * there first. Reload the stream (`aggregateStream`), decide again and append with the new
 * version. Retryable in that sense: the same append repeated as it is fails the same way.
 */
export class WrongExpectedVersionError extends SwitchyardError {
  /** The stream appended to. */
  readonly streamId: string
  /** What the append expected. */
  readonly expectedVersion: ExpectedVersion
  /** The stream's version when the append looked: its event count, 0 when it does not exist. */
  readonly actualVersion: number

  constructor(streamId: string, expectedVersion: ExpectedVersion, actualVersion: number) {
    super(
      `Stream "${streamId}" is at version ${actualVersion}, the append expected ${describe(expectedVersion)}: read the stream again, decide again and append with expectedVersion ${actualVersion}`,
      { code: 'ERR_WRONG_EXPECTED_VERSION', retryable: true },
    )
    this.streamId = streamId
    this.expectedVersion = expectedVersion
    this.actualVersion = actualVersion
  }
}

/**
 * Some of an append's event ids are stored already, but not as that same append (another
 * stream, other positions, only part of the batch). A whole append repeated with the same ids
 * is not an error: it succeeds once and is a no-op after.
 */
export class DuplicateEventError extends SwitchyardError {
  /** The stream appended to. */
  readonly streamId: string
  /** Ids of the append. */
  readonly eventIds: readonly string[]

  constructor(streamId: string, eventIds: readonly string[], cause?: unknown) {
    super(
      `Stream "${streamId}": event id(s) ${eventIds.slice(0, 5).join(', ')}${eventIds.length > 5 ? ', ...' : ''} are stored already by another append; give new events new ids`,
      { code: 'ERR_DUPLICATE_EVENT', retryable: false, cause },
    )
    this.streamId = streamId
    this.eventIds = eventIds
  }
}

/** An append named a tenant other than the one the stream belongs to. */
export class StreamTenantError extends SwitchyardError {
  /** The stream appended to. */
  readonly streamId: string
  /** The tenant of the append. */
  readonly tenant: string

  constructor(streamId: string, tenant: string) {
    // The stream's own tenant is not named: the caller may not be allowed to know it.
    super(`Stream "${streamId}" does not belong to tenant "${tenant}"`, {
      code: 'ERR_STREAM_TENANT',
      retryable: false,
    })
    this.streamId = streamId
    this.tenant = tenant
  }
}
