import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api'
import { ATTR, DURATION_BUCKETS, METRIC } from './conventions.js'

/** The instruments of one meter provider. */
export interface Instruments {
  provider: MeterProvider
  /** True for the API's no-op meter: nothing to time or record. */
  noop: boolean
  sent: Counter
  consumed: Counter
  operationDuration: Histogram
  processDuration: Histogram
  retried: Counter
  deadLettered: Counter
}

/** What one handling attempt ended as, for the consumer instruments. */
export type ProcessResult = 'success' | 'retry' | 'dead-letter' | 'drop' | 'error'

const MAX_CACHED = 1_000
const NoopMeter = createNoopMeter().constructor

/**
 * Records the messaging instruments. Instruments are created from the configured meter provider,
 * or from the global one, re-read on every call: unlike traces, the metrics API has no proxy, so a
 * meter taken before the SDK registered would stay a no-op forever.
 */
export class MessagingMetrics {
  private instruments: Instruments | undefined
  // Attribute objects are reused per destination so the common path allocates nothing.
  private readonly sendAttrs = new Map<string, Attributes>()
  private readonly processAttrs = new Map<string, Attributes>()

  constructor(
    private readonly configured: MeterProvider | undefined,
    private readonly scope: string,
    /** Label series with the event's tenant (`tenantAttribute`). */
    private readonly byTenant = false,
  ) {}

  /**
   * The instruments to record into, or `undefined` while the provider is the API's no-op one, so
   * callers skip even reading the clock.
   */
  current(): Instruments | undefined {
    const provider = this.configured ?? metrics.getMeterProvider()
    if (this.instruments?.provider !== provider) this.instruments = create(provider, this.scope)
    return this.instruments.noop ? undefined : this.instruments
  }

  /**
   * One publish to `topic` (its `destinationLabel`) finished after `seconds`; `errorType` when it
   * failed; `tenant` is the event's, used only with `tenantAttribute`.
   */
  sent(
    i: Instruments,
    transport: string,
    topic: string,
    seconds: number,
    errorType: string | undefined,
    tenant?: string,
  ): void {
    const t = this.byTenant ? tenant : undefined
    let attrs = cached(this.sendAttrs, `${transport}\0${topic}\0${t ?? ''}`, () =>
      withTenant(
        {
          [ATTR.operationName]: 'send',
          [ATTR.operationType]: 'send',
          [ATTR.messagingSystem]: transport,
          [ATTR.destinationName]: topic,
        },
        t,
      ),
    )
    if (errorType !== undefined) attrs = { ...attrs, [ATTR.errorType]: errorType }
    i.sent.add(1, attrs)
    i.operationDuration.record(seconds, attrs)
  }

  /** One handling attempt finished after `seconds`; `tenant` as for `sent`. */
  processed(
    i: Instruments,
    transport: string,
    topic: string,
    group: string,
    seconds: number,
    result: ProcessResult,
    errorType: string | undefined,
    tenant?: string,
  ): void {
    const t = this.byTenant ? tenant : undefined
    let attrs = cached(this.processAttrs, `${transport}\0${topic}\0${group}\0${t ?? ''}`, () =>
      withTenant(
        {
          [ATTR.operationName]: 'process',
          [ATTR.operationType]: 'process',
          [ATTR.messagingSystem]: transport,
          [ATTR.destinationName]: topic,
          [ATTR.consumerGroup]: group,
        },
        t,
      ),
    )
    if (errorType !== undefined) attrs = { ...attrs, [ATTR.errorType]: errorType }
    i.consumed.add(1, attrs)
    i.processDuration.record(seconds, attrs)
    if (result === 'retry') i.retried.add(1, attrs)
    else if (result === 'dead-letter') i.deadLettered.add(1, attrs)
  }
}

function create(provider: MeterProvider, scope: string): Instruments {
  const meter = provider.getMeter(scope)
  const advice = { explicitBucketBoundaries: [...DURATION_BUCKETS] }
  return {
    provider,
    noop: meter instanceof NoopMeter,
    sent: meter.createCounter(METRIC.sentMessages, {
      unit: '{message}',
      description: 'Messages a producer sent to the broker.',
    }),
    consumed: meter.createCounter(METRIC.consumedMessages, {
      unit: '{message}',
      description: 'Messages delivered to a handler, one per attempt.',
    }),
    operationDuration: meter.createHistogram(METRIC.operationDuration, {
      unit: 's',
      description: 'Duration of a send until the broker confirmed it.',
      advice,
    }),
    processDuration: meter.createHistogram(METRIC.processDuration, {
      unit: 's',
      description: 'Duration of one handling attempt.',
      advice,
    }),
    retried: meter.createCounter(METRIC.retriedMessages, {
      unit: '{message}',
      description: 'Handling attempts that ended in a retry.',
    }),
    deadLettered: meter.createCounter(METRIC.deadLetteredMessages, {
      unit: '{message}',
      description: 'Messages sent to the dead-letter destination.',
    }),
  }
}

/** `attrs` with the tenant attribute when there is a tenant to record. */
function withTenant(attrs: Attributes, tenant: string | undefined): Attributes {
  if (tenant !== undefined) attrs[ATTR.tenant] = tenant
  return attrs
}

function cached(map: Map<string, Attributes>, key: string, make: () => Attributes): Attributes {
  let value = map.get(key)
  if (value === undefined) {
    if (map.size >= MAX_CACHED) map.clear()
    value = make()
    map.set(key, value)
  }
  return value
}
