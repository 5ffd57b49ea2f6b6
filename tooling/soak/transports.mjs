// The transports the soak runs, built the same way in the soak process and in the consumer
// child. Workspace packages are loaded from their built `dist` (`pnpm soak` builds first);
// tooling is not a workspace member that depends on them, so the paths are relative.
import { kafkaTransport } from '../../packages/adapter-kafka/dist/index.js'
import { memoryTransport } from '../../packages/adapter-memory/dist/index.js'
import { natsTransport } from '../../packages/adapter-nats/dist/index.js'
import { redisTransport } from '../../packages/adapter-redis/dist/index.js'

/** How long a killed member's unacknowledged messages stay with it before another takes them. */
export const HAND_OVER_MS = 5_000

/**
 * A transport of `kind` on the private broker at `address`. Hand-over timeouts are short (5 s
 * instead of the adapters' 30 s defaults) so a killed consumer's events come back within the
 * run; everything else is the adapter's default. The bus hands its logger to the transport.
 */
export function makeTransport(kind, address) {
  switch (kind) {
    case 'memory':
      return memoryTransport()
    case 'redis':
      return redisTransport({ url: address, consumerTimeoutMs: HAND_OVER_MS })
    case 'nats':
      return natsTransport({ servers: address, ackWaitMs: HAND_OVER_MS })
    case 'kafka':
      // Short group timeouts, as the adapter's fault tests use; three partitions.
      return kafkaTransport({
        brokers: address,
        partitions: 3,
        heartbeatIntervalMs: 500,
        sessionTimeoutMs: HAND_OVER_MS,
        rebalanceTimeoutMs: 10_000,
        maxWaitTimeMs: 100,
        commitIntervalMs: 100,
        logLevel: 'nothing',
      })
    default:
      throw new Error(`unknown transport ${kind}`)
  }
}
