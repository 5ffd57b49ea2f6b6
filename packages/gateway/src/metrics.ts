import type { Attributes, Counter, Histogram } from '@opentelemetry/api'
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import type { Middleware } from '@switchyard/core'
import { otelMiddleware } from '@switchyard/otel'

/** Prometheus metrics of a gateway: the bus's messaging metrics and the HTTP requests. */
export interface GatewayMetrics {
  /** The meter provider the metrics are recorded with. */
  readonly meterProvider: MeterProvider
  /** Bus middleware recording the messaging metrics (`@switchyard/otel`); give it to the bus. */
  readonly middleware: Middleware
  /** Records one HTTP request. */
  recordRequest(attributes: Attributes, seconds: number): void
  /** The current metrics in the Prometheus text format. */
  scrape(): Promise<string>
  /** Stops the meter provider. */
  shutdown(): Promise<void>
}

/**
 * Metrics for `/metrics`: a meter provider read by `@opentelemetry/exporter-prometheus` (its own
 * HTTP server stays off; the gateway serves the text), fed by `@switchyard/otel`'s metrics
 * middleware. Put `metrics.middleware` on the bus the gateway serves.
 * @example
 * const metrics = prometheusMetrics()
 * const bus = createEventBus({ transport, middleware: [metrics.middleware] })
 * const app = await createGateway({ bus, metrics, auth: { secret } })
 */
export function prometheusMetrics(options: { traces?: boolean } = {}): GatewayMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const serializer = new PrometheusSerializer()
  const meter = meterProvider.getMeter('@switchyard/gateway')
  const requests: Counter = meter.createCounter('http.server.requests', {
    description: 'HTTP requests answered by the gateway',
  })
  const duration: Histogram = meter.createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP requests',
    unit: 's',
  })
  return {
    meterProvider,
    middleware: otelMiddleware({ meterProvider, traces: options.traces ?? false }),
    recordRequest(attributes, seconds) {
      requests.add(1, attributes)
      duration.record(seconds, attributes)
    },
    async scrape() {
      const { resourceMetrics } = await exporter.collect()
      return serializer.serialize(resourceMetrics)
    },
    shutdown: () => meterProvider.shutdown(),
  }
}
