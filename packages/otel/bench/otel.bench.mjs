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
const noopSeries = {
  none: () => [],
  // A handle middleware that is always on turns off core's synchronous fast path; this isolates
  // that cost. (The otel middleware reports itself idle without an SDK, so the bus skips it.)
  passThrough: () => [
    { name: 'pass', publish: (_ctx, next) => next(), handle: (_ctx, next) => next() },
  ],
  otel: () => [otelMiddleware()],
}

async function busRun(count, middleware, hooks = {}) {
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
      else if (handled % 5_000 === 0) hooks.every?.()
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
  await hooks.settle?.()
  const rate = count / ((performance.now() - started) / 1_000)
  await bus.close()
  return rate
}

/**
 * Runs the series in turn, round after round (alternating the order), so load from other
 * processes and the one before hit all alike, and
 * returns the median of each: on a shared 2-core machine single runs swing by 20% and more.
 */
async function series(runs, count, variants, hooks) {
  const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]))
  const entries = Object.entries(variants)
  for (let i = 0; i < runs; i++) {
    // Every other round in reverse order, so no variant always runs right after the same one.
    for (const [name, middleware] of i % 2 === 0 ? entries : [...entries].reverse()) {
      rates[name].push(await busRun(count, middleware(), name === 'none' ? {} : hooks))
      globalThis.gc?.()
    }
  }
  return Object.fromEntries(Object.entries(rates).map(([name, list]) => [name, median(list)]))
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
  const noop = await series(runs, count, noopSeries)
  report({
    scenario: 'memory publish->handle with otel middleware, no-op API',
    unit: 'events/s',
    ours: noop.otel,
    raw: noop.none,
    rawLabel: 'same bus without middleware',
    higherIsBetter: true,
    target: '>= 0.9x raw',
  })
  report({
    scenario: 'same, against a pass-through middleware (the cost that is otel’s own)',
    unit: 'events/s',
    ours: noop.otel,
    raw: noop.passThrough,
    rawLabel: 'same bus with a pass-through middleware',
    higherIsBetter: true,
    target: '>= 0.9x raw',
  })
  await withSdk(runs, Math.round(count / 2), report)
}

async function withSdk(runs, count, report) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
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
    const rates = await series(
      runs,
      count,
      { none: () => [], otel: () => [otelMiddleware({ tracerProvider, meterProvider })] },
      { every: drain, settle: () => processor.forceFlush() },
    )
    await processor.forceFlush() // the last run's last span ends just after its handler returns
    drain()
    const expected = runs * count * 2
    if (exported !== expected)
      console.log(`  note: ${expected - exported} of ${expected} spans dropped`)
    report({
      scenario: 'memory publish->handle with otel middleware, SDK + in-memory exporters',
      unit: 'events/s',
      ours: rates.otel,
      raw: rates.none,
      rawLabel: 'same bus without middleware',
      higherIsBetter: true,
      target: 'reported (2 spans + 4 measurements per event)',
    })
  } finally {
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
    context.disable()
  }
}
