import { ConnectionError } from '@switchyard/core'
import { type Claim, claimBatch, markFailed, markSent } from './claim.js'
import type { Queryable } from './driver.js'
import type { ResolvedRelayOptions } from './options.js'
import { type PublishOutcome, publishRows } from './publish.js'

/** What one claim-publish-mark transaction did. */
export interface BatchResult {
  /** Rows claimed. */
  claimed: number
  /** Rows published and marked sent. */
  published: number
  /** Rows that failed and wait for a retry. */
  failed: number
  /** Rows parked. */
  parked: number
  /** Nothing was claimed because other relays hold the lanes with work: try again soon. */
  contended: boolean
}

/** A committed batch: the counts and, when rows were claimed, what publishing came to. */
export interface CommittedBatch extends BatchResult {
  outcome: PublishOutcome | undefined
}

/**
 * One transaction: claim rows, publish them through the bus, mark them sent (or count the
 * failure), commit. If the process dies before the commit, the database rolls back and the rows
 * are claimed again: a publish without its mark is repeated, never lost. If only the claim's
 * connection is lost while publishing, the outcome is written on another connection, so
 * published rows are not published again and failures still count and back off.
 */
export async function runBatch(
  o: ResolvedRelayOptions,
  onClaimed: (count: number) => void,
  onLost: (error: ConnectionError) => void,
): Promise<CommittedBatch> {
  let outcome: PublishOutcome | undefined
  let claim: Claim | undefined
  try {
    await o.driver.transaction(async (tx) => {
      claim = await claimBatch(tx, o.names, o)
      if (claim.rows.length === 0) return
      onClaimed(claim.rows.length)
      outcome = await publishRows(claim.rows, o)
      await record(tx, o, outcome)
    })
  } catch (error) {
    if (outcome === undefined) throw error
    await recordElsewhere(o, outcome, error, onLost)
  }
  if (claim === undefined) throw new Error('unreachable: the claim transaction returned no claim')
  const claimed = claim.rows.length
  const contended = claimed === 0 && claim.lanesSeen > claim.lanesHeld
  if (outcome === undefined)
    return { claimed, published: 0, failed: 0, parked: 0, contended, outcome }
  const parked = outcome.parked.reduce((n, p) => n + p.ids.length, 0)
  const failed = outcome.failures.length - parked
  return { claimed, published: outcome.sent.length, failed, parked, contended, outcome }
}

async function record(tx: Queryable, o: ResolvedRelayOptions, outcome: PublishOutcome) {
  await markSent(tx, o.names, outcome.sent, o.retentionMs > 0)
  await markFailed(tx, o.names, outcome.failures)
}

/**
 * The locks went with the connection, so another relay may already hold these rows: the marks
 * only touch rows still pending (and failures only with the attempts they were claimed with).
 */
async function recordElsewhere(
  o: ResolvedRelayOptions,
  outcome: PublishOutcome,
  cause: unknown,
  onLost: (error: ConnectionError) => void,
): Promise<void> {
  const reason = cause instanceof Error ? cause.message : String(cause)
  const what = 'The claim transaction failed after publishing'
  try {
    await o.driver.transaction((tx) => record(tx, o, outcome))
  } catch {
    // The database is out of reach: the rows are claimed and published again later.
    throw new ConnectionError(`${what} (${reason}), and recording its outcome failed too`, {
      cause,
    })
  }
  onLost(
    new ConnectionError(
      `${what} (${reason}); the outcome was recorded on another connection. If a server or pooler timeout closed it, raise that timeout above the time a batch takes to publish, or lower batchSize`,
      { cause },
    ),
  )
}
