import { createServer, type Server } from 'node:http'
import { context, metrics, propagation, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import type { Middleware } from '@switchyard/core'
import { loggingMiddleware, METRIC, otelMiddleware } from '@switchyard/otel'

/** What `--otel` gives the demo: middleware for every bus, a summary printer, and a shutdown. */
export interface OtelSetup {
  middleware: Middleware[]
  printSummary(log: (line: string) => void): void
  shutdown(): Promise<void>
}

/** A reader the Prometheus endpoint pulls from on each scrape. */
class ScrapeReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * Registers an SDK tracer and meter provider with in-memory exporters (and the async-hooks
 * context manager and W3C propagator), so the demo can print the span tree of its run. With
 * `otlpEndpoint`, also exports the spans over OTLP/HTTP (JSON) to a collector. With
 * `metricsPort`, serves the metrics in the Prometheus text format at `/metrics`.
 */
export function setupOtel(options: {
  serviceName: string
  metricsPort?: number
  otlpEndpoint?: string
}): OtelSetup {
  const notes: string[] = []
  const spanProcessors: SpanProcessor[] = []
  if (options.otlpEndpoint !== undefined) {
    // OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; traces go to /v1/traces under it.
    const base = options.otlpEndpoint.replace(/\/+$/, '')
    const url = base.endsWith('/v1/traces') ? base : `${base}/v1/traces`
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })))
    notes.push(`Spans exported over OTLP/HTTP to ${url}`)
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor(spans), ...spanProcessors],
  })
  const pushed = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const periodic = new PeriodicExportingMetricReader({
    exporter: pushed,
    exportIntervalMillis: 5_000,
  })
  let totals: Promise<void> | undefined
  const scrape = new ScrapeReader()
  const meterProvider = new MeterProvider({
    resource,
    readers: [periodic, scrape],
  })
  trace.setGlobalTracerProvider(tracerProvider)
  metrics.setGlobalMeterProvider(meterProvider)

  let server: Server | undefined
  if (options.metricsPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('try /metrics\n')
        return
      }
      scrape.collect().then(
        ({ resourceMetrics }) =>
          res
            .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
            .end(prometheusText(resourceMetrics)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      )
    })
    server.listen(options.metricsPort, '127.0.0.1')
    notes.push(`Prometheus metrics at http://127.0.0.1:${options.metricsPort}/metrics`)
  }
  const logger = jsonLines(options.serviceName)
  const middleware = [
    otelMiddleware(),
    loggingMiddleware({ logger, service: options.serviceName, successLevel: 'debug' }),
  ]

  return {
    middleware,
    printSummary(log) {
      for (const note of notes) log(`  ${note}`)
      printSpanTrees(spans.getFinishedSpans(), log)
      // A short run may end before the first periodic export: export now; the totals print as
      // soon as that settles, and shutdown() waits for it.
      totals = periodic.forceFlush().then(() => {
        const latest = pushed.getMetrics().at(-1)
        if (latest !== undefined) printTotals(latest, log)
      })
    },
    async shutdown() {
      await totals?.catch(() => undefined)
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      trace.disable()
      metrics.disable()
      propagation.disable()
      context.disable()
    },
  }
}

/** Warnings and errors as JSON lines on stderr, in the logging middleware's (Olive's) shape. */
function jsonLines(service: string) {
  const write = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    const err =
      fields.err instanceof Error
        ? { type: fields.err.name, message: fields.err.message }
        : fields.err
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, service, ...fields, err, msg })}\n`,
    )
  }
  return {
    info: () => undefined,
    debug: () => undefined,
    warn: write('warn'),
    error: write('error'),
  }
}

const KIND: Record<number, string> = {
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
}

/** Prints the traces that saw a retry or a dead letter, and a count of the rest. */
function printSpanTrees(spans: readonly ReadableSpan[], log: (line: string) => void): void {
  const byTrace = new Map<string, ReadableSpan[]>()
  for (const span of spans) {
    const id = span.spanContext().traceId
    byTrace.set(id, [...(byTrace.get(id) ?? []), span])
  }
  const eventful = [...byTrace.values()].filter((list) => list.some((s) => s.events.length > 0))
  log('')
  log(
    `Traces: ${byTrace.size} (${spans.length} spans); ${eventful.length} with retries or dead letters:`,
  )
  for (const list of eventful.slice(0, 3)) {
    const ids = new Set(list.map((s) => s.spanContext().spanId))
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId
    const byStart = (a: ReadableSpan, b: ReadableSpan) =>
      a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]
    // Roots: no parent, or a parent in another process (remote) that this run did not record.
    const roots = list.filter((s) => !ids.has(parentOf(s) ?? '')).sort(byStart)
    const children = (id: string) => list.filter((s) => parentOf(s) === id).sort(byStart)
    const walk = (span: ReadableSpan, depth: number) => {
      const attempt = span.attributes['switchyard.attempt']
      const outcome = span.attributes['switchyard.outcome']
      const events = span.events
        .filter((e) => e.name !== 'exception')
        .map((e) => e.name.replace('switchyard.', ''))
      const detail = [
        KIND[span.kind] ?? 'internal',
        attempt === undefined ? '' : `attempt ${attempt}`,
        outcome === undefined ? '' : `${outcome}`,
        events.length > 0 ? `events: ${events.join(', ')}` : '',
        `${((span.duration[0] * 1e9 + span.duration[1]) / 1e6).toFixed(2)} ms`,
      ].filter(Boolean)
      log(`    ${'  '.repeat(depth)}${depth === 0 ? '' : '└ '}${span.name} (${detail.join(', ')})`)
      for (const child of children(span.spanContext().spanId)) walk(child, depth + 1)
    }
    log(`  trace ${list[0]!.spanContext().traceId}`)
    for (const root of roots) walk(root, 0)
  }
}

function printTotals(resource: ResourceMetrics, log: (line: string) => void): void {
  const total = (name: string) =>
    resource.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints as { value: number | { count: number } }[])
      .reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : p.value.count), 0)
  log('Metrics:')
  for (const name of Object.values(METRIC)) log(`  ${name.padEnd(44)} ${total(name)}`)
}

/** The Prometheus text exposition of counters and histograms, named as the OTel exporter does. */
function prometheusText(resource: ResourceMetrics): string {
  const clean = (s: string) => s.replace(/[^a-zA-Z0-9_:]/g, '_')
  const labels = (attrs: Record<string, unknown>, extra = '') => {
    const parts = Object.entries(attrs).map(
      ([k, v]) => `${clean(k)}="${String(v).replace(/["\\\n]/g, '\\$&')}"`,
    )
    if (extra) parts.push(extra)
    return parts.length > 0 ? `{${parts.join(',')}}` : ''
  }
  const out: string[] = []
  for (const metric of resource.scopeMetrics.flatMap((s) => s.metrics)) {
    const unit = metric.descriptor.unit === 's' ? '_seconds' : ''
    const base = clean(metric.descriptor.name) + unit
    if (metric.dataPointType === DataPointType.SUM) {
      out.push(
        `# HELP ${base}_total ${metric.descriptor.description}`,
        `# TYPE ${base}_total counter`,
      )
      for (const p of metric.dataPoints) out.push(`${base}_total${labels(p.attributes)} ${p.value}`)
    } else if (metric.dataPointType === DataPointType.HISTOGRAM) {
      out.push(`# HELP ${base} ${metric.descriptor.description}`, `# TYPE ${base} histogram`)
      for (const p of metric.dataPoints) {
        let cumulative = 0
        p.value.buckets.boundaries.forEach((le, i) => {
          cumulative += p.value.buckets.counts[i] ?? 0
          out.push(`${base}_bucket${labels(p.attributes, `le="${le}"`)} ${cumulative}`)
        })
        out.push(`${base}_bucket${labels(p.attributes, 'le="+Inf"')} ${p.value.count}`)
        out.push(
          `${base}_sum${labels(p.attributes)} ${p.value.sum ?? 0}`,
          `${base}_count${labels(p.attributes)} ${p.value.count}`,
        )
      }
    }
  }
  return `${out.join('\n')}\n`
}
