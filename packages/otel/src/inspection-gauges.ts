import { type Attributes, type MeterProvider, metrics } from '@opentelemetry/api'
import type { BusInspection } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import { ATTR, METRIC } from './conventions.js'

/** What `inspectionGauges` reads: a bus, or anything with its `inspect`. */
export interface Inspectable {
  inspect(topic?: string): Promise<BusInspection>
}

/** Options of `inspectionGauges`. */
export interface InspectionGaugesOptions {
  /** Topics to report; every topic the broker keeps for the transport when left out. */
  topics?: readonly string[]
  /** Where measurements go. @default the global meter provider */
  meterProvider?: MeterProvider
  /** Instrumentation scope name of the meter. @default '@switchyard/otel' */
  scope?: string
  /** Where a failed inspection is reported (the gauges then skip that collection). */
  onError?: (error: Error) => void
}

/**
 * Observable gauges fed by `bus.inspect()` at each collection: consumer lag, pending and oldest
 * unsettled age per group, retained messages and dead-letter depth per topic. Figures a broker
 * cannot tell (`null`) are not recorded. Returns a function that stops the gauges.
 */
export function inspectionGauges(
  bus: Inspectable,
  options: InspectionGaugesOptions = {},
): () => void {
  checkKeys(options, ['topics', 'meterProvider', 'scope', 'onError'], 'inspectionGauges')
  const provider = options.meterProvider ?? metrics.getMeterProvider()
  const meter = provider.getMeter(options.scope ?? '@switchyard/otel')
  const lag = meter.createObservableGauge(METRIC.consumerLag, {
    unit: '{message}',
    description: 'Messages stored and not yet delivered to the consumer group.',
  })
  const pending = meter.createObservableGauge(METRIC.consumerPending, {
    unit: '{message}',
    description: 'Messages delivered to the consumer group and not yet settled.',
  })
  const oldest = meter.createObservableGauge(METRIC.oldestUnsettledAge, {
    unit: 's',
    description: 'Age of the oldest message delivered to the group and not settled.',
  })
  const retained = meter.createObservableGauge(METRIC.retainedMessages, {
    unit: '{message}',
    description: 'Messages the broker retains on the topic.',
  })
  const deadLetters = meter.createObservableGauge(METRIC.deadLetterDepth, {
    unit: '{message}',
    description: 'Entries retained on the topic’s dead-letter topic.',
  })
  const instruments = [lag, pending, oldest, retained, deadLetters]
  const callback = async (
    observer: Parameters<Parameters<typeof meter.addBatchObservableCallback>[0]>[0],
  ) => {
    let seen: BusInspection['topics']
    try {
      const topics = options.topics
      seen =
        topics === undefined
          ? (await bus.inspect()).topics
          : (await Promise.all(topics.map((t) => bus.inspect(t)))).flatMap((r) => r.topics)
    } catch (error) {
      options.onError?.(error as Error)
      return
    }
    for (const t of seen) {
      const topicAttrs: Attributes = { [ATTR.destinationName]: t.topic }
      if (t.retained !== null) observer.observe(retained, t.retained, topicAttrs)
      if (t.deadLetterDepth !== null) observer.observe(deadLetters, t.deadLetterDepth, topicAttrs)
      for (const g of t.groups) {
        const attrs: Attributes = { ...topicAttrs, [ATTR.consumerGroup]: g.group }
        if (g.lag !== null) observer.observe(lag, g.lag, attrs)
        if (g.pending !== null) observer.observe(pending, g.pending, attrs)
        if (g.oldestUnsettledAgeMs !== null)
          observer.observe(oldest, g.oldestUnsettledAgeMs / 1_000, attrs)
      }
    }
  }
  meter.addBatchObservableCallback(callback, instruments)
  return () => meter.removeBatchObservableCallback(callback, instruments)
}
