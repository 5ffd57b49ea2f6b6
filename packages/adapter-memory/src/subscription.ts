import type { InboundMessage, TransportSubscription } from '@switchyard/core/transport'
import type { Member, MemoryBroker } from './broker.js'
import type { MemoryFaults } from './faults.js'

/** A member of a group, pulling from the broker; stalls while fault injection disconnects it. */
export class MemorySubscription implements TransportSubscription {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly member: Member,
    private readonly faults: MemoryFaults,
    private readonly onClose: (subscription: MemorySubscription) => void,
  ) {}

  pull(
    max: number,
    signal: AbortSignal,
    deliver: (messages: InboundMessage[]) => void,
    fail: (error: unknown) => void,
  ): void {
    if (this.faults.disconnected) {
      this.faults.whenConnected(signal).then(() => this.pull(max, signal, deliver, fail), fail)
      return
    }
    this.broker.pull(this.member, max, signal, deliver)
  }

  async close(): Promise<void> {
    this.onClose(this)
    this.broker.leave(this.member)
  }
}
