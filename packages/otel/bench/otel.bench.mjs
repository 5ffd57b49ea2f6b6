// Bus throughput (memory transport, binary codec, publish -> handle) with and without the otel
// middleware in the same run: first with the no-op API (no SDK registered), then with a real SDK
// tracer and meter provider writing to in-memory exporters. Nothing is registered globally, so
// the bench files that run after this one in the same process are not affected.
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base'
import { memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus } from '@switchyard/core'
import { otelMiddleware } from '@switchyard/otel'

const WINDOW = 500 // publishes in flight at once

async function busRun(count, middleware, every = () => undefined, settle = async () => undefined) {
  const transport = memoryTransport({ historySize: 0 })
  const bus = createEventBus({ transport, source: 'bench', middleware })
  let handled = 0
  let finish
  const done = new Promise((resolve) => {
    finish = resolve
  })
  await bus.subscribe(
    'bench',
    () => {
      if (++handled === count) finish()
      else if (handled % 5_000 === 0) every()
    },
    { concurrency: 64, prefetch: 4096 },
  )
  const data = { employee_id: 'emp_123', name: 'Ada Lovelace' }
  const started = performance.now()
  for (let sent = 0; sent < count; sent += WINDOW) {
    const batch = []
    for (let i = 0; i < WINDOW; i++)
      batch.push(bus.publish('bench', { type: 'employee.created', data }))
    await Promise.all(batch)
  }
  await done
  await settle()
  const rate = count / ((performance.now() - started) / 1_000)
  await bus.close()
  return rate
}

/**
 * Alternates the two runs so load from other processes hits both alike, and reports the median
 * of each: on a shared 2-core machine single runs swing by 20% either way.
 */
async function compare(runs, count, withMiddleware, every, settle) {
  const raw = []
  const ours = []
  for (let i = 0; i < runs; i++) {
    raw.push(await busRun(count, [], every))
    globalThis.gc?.()
    ours.push(await busRun(count, withMiddleware(), every, settle))
    globalThis.gc?.()
  }
  return { raw: median(raw), ours: median(ours) }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export default async function bench({ report, quick }) {
  if (trace.getTracerProvider().getDelegateTracer?.('@switchyard/otel') !== undefined) {
    console.log(
      '  skipped: a global tracer provider is registered, the no-op figure would be wrong',
    )
    return
  }
  const runs = quick ? 3 : 9
  const count = quick ? 20_000 : 50_000
  await busRun(count, [otelMiddleware()]) // warm-up
  const noop = await compare(runs, count, () => [otelMiddleware()])
  report({
    scenario: 'memory publish->handle with otel middleware, no-op API',
    unit: 'events/s',
    ours: noop.ours,
    raw: noop.raw,
    rawLabel: 'same bus without otel middleware',
    higherIsBetter: true,
    target: '>= 0.9x raw',
  })

  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  // The production shape: a batch processor in front of the exporter. (SimpleSpanProcessor with
  // the in-memory exporter arms one timer per span, which starves under load and measures that.)
  const spans = new InMemorySpanExporter()
  const processor = new BatchSpanProcessor(spans, {
    maxQueueSize: 65_536,
    maxExportBatchSize: 1_024,
  })
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [processor] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })
  try {
    // The exporter is drained every 5,000 events, as a real exporter ships spans away; keeping
    // every span of the run would measure the garbage collector instead. Each timed run ends
    // when its spans are exported.
    let exported = 0
    const drain = () => {
      exported += spans.getFinishedSpans().length
      spans.reset()
    }
    const sdkCount = Math.round(count / 2)
    const withSdk = await compare(
      runs,
      sdkCount,
      () => [otelMiddleware({ tracerProvider, meterProvider })],
      drain,
      () => processor.forceFlush(),
    )
    await processor.forceFlush() // the last run's last span ends just after its handler returns
    drain()
    const expected = runs * sdkCount * 2
    if (exported !== expected)
      console.log(`  note: ${expected - exported} of ${expected} spans dropped`)
    report({
      scenario: 'memory publish->handle with otel middleware, SDK + in-memory exporters',
      unit: 'events/s',
      ours: withSdk.ours,
      raw: withSdk.raw,
      rawLabel: 'same bus without otel middleware',
      higherIsBetter: true,
      target: 'reported (2 spans + 4 measurements per event)',
    })
  } finally {
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
    context.disable()
  }
}
