import { claimBatch, markFailed, markSent } from './claim.js'
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
 * are claimed again: a publish without its mark is repeated, never lost.
 */
export async function runBatch(
  o: ResolvedRelayOptions,
  onClaimed: (count: number) => void,
): Promise<CommittedBatch> {
  let outcome: PublishOutcome | undefined
  const claim = await o.driver.transaction(async (tx) => {
    const claim = await claimBatch(tx, o.names, o)
    if (claim.rows.length === 0) return claim
    onClaimed(claim.rows.length)
    outcome = await publishRows(claim.rows, o)
    await markSent(tx, o.names, outcome.sent, o.retentionMs > 0)
    await markFailed(tx, o.names, outcome.failures)
    return claim
  })
  const claimed = claim.rows.length
  const contended = claimed === 0 && claim.lanesSeen > claim.lanesHeld
  if (outcome === undefined)
    return { claimed, published: 0, failed: 0, parked: 0, contended, outcome }
  const parked = outcome.parked.reduce((n, p) => n + p.ids.length, 0)
  const failed = outcome.failures.length - parked
  return { claimed, published: outcome.sent.length, failed, parked, contended, outcome }
}
