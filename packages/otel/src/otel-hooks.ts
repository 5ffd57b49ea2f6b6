import { type Attributes, type Counter, type MeterProvider, metrics } from '@opentelemetry/api'
import { type BusHooks, MessagesLostError } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import { ATTR, METRIC } from './conventions.js'

/** Options of `otelHooks`. */
export interface OtelHooksOptions {
  /** Where measurements go. @default the global meter provider, re-read on every error */
  meterProvider?: MeterProvider
  /** Instrumentation scope name of the meter. @default '@switchyard/otel' */
  scope?: string
  /** Hooks of your own, called after the measurement (so both can be given to the bus). */
  next?: BusHooks
}

interface Counters {
  provider: MeterProvider
  lost: Counter
  errors: Counter
}

/**
 * Bus hooks that turn failures outside handlers into metrics: messages the broker dropped or
 * expired before a group read them (`MessagesLostError`: retention, `maxDeliver`) add their count
 * to `switchyard.messaging.lost.messages` by stream and group, and every error reported to
 * `onError` counts in `switchyard.bus.errors` by error type. Give them to `createEventBus`:
 * `createEventBus({ transport, hooks: otelHooks({ next: myHooks }) })`.
 */
export function otelHooks(options: OtelHooksOptions = {}): BusHooks {
  checkKeys(options, ['meterProvider', 'scope', 'next'], 'otelHooks')
  const scope = options.scope ?? '@switchyard/otel'
  const next = options.next ?? {}
  let counters: Counters | undefined
  const current = (): Counters => {
    const provider = options.meterProvider ?? metrics.getMeterProvider()
    if (counters?.provider !== provider) {
      const meter = provider.getMeter(scope)
      counters = {
        provider,
        lost: meter.createCounter(METRIC.lostMessages, {
          unit: '{message}',
          description: 'Messages the broker dropped or expired before a consumer group read them.',
        }),
        errors: meter.createCounter(METRIC.busErrors, {
          unit: '{error}',
          description: 'Errors reported outside handlers (acks, pulls, dead-letter publishes).',
        }),
      }
    }
    return counters
  }
  return {
    ...next,
    onError(error, where) {
      const { lost, errors } = current()
      const type: Attributes = { [ATTR.errorType]: error.name }
      errors.add(1, type)
      if (error instanceof MessagesLostError) {
        const attrs: Attributes = { [ATTR.destinationName]: error.stream }
        if (error.group !== undefined) attrs[ATTR.consumerGroup] = error.group
        lost.add(error.count, attrs)
      }
      next.onError?.(error, where)
    },
  }
}
