import type { EventBus, EventEnvelope, EventInput } from '@switchyard/core'
import type { Processor, StateStore } from '../src/index.js'
import { at, type Backend, collect, sec, unique, until } from './backends.js'

/** Events to publish before waiting for the processor to take them all. */
export type Phase = readonly (readonly ['a' | 'b', EventInput])[]

/** What a scenario's processor is built from. */
export interface Ctx {
  bus: EventBus
  /** Input topics: `a` (and `b` for joins). */
  a: string
  b: string
  /** Results topic and late-events topic. */
  out: string
  late: string
  name: string
  store: StateStore
  run: string
}

/** A result event in a comparable form: seconds since T0, key, value, finality. */
export interface Row {
  key: string
  start?: number
  end?: number
  final: boolean
  value: unknown
}

export function row(event: EventEnvelope): Row {
  const ext = event.extensions ?? {}
  const r: Row = { key: ext.streamkey ?? '', final: ext.windowfinal === 'true', value: event.data }
  if (ext.windowstart !== undefined) r.start = sec(ext.windowstart)
  if (ext.windowend !== undefined) r.end = sec(ext.windowend)
  return r
}

const order = (x: Row, y: Row): number =>
  x.key.localeCompare(y.key) ||
  (x.start ?? 0) - (y.start ?? 0) ||
  (x.end ?? 0) - (y.end ?? 0) ||
  Number(x.final) - Number(y.final) ||
  JSON.stringify(x.value).localeCompare(JSON.stringify(y.value))

/**
 * Starts the processor, publishes each phase (waiting until the processor has taken every event
 * of a phase before the next: the order across topics is then fixed), and returns the results
 * (sorted) and the late events' ids once the processor has emitted everything.
 */
export async function scenario(
  backend: Backend,
  build: (ctx: Ctx) => Promise<Processor>,
  inputs: (ev: (key: string, seconds: number, type?: string) => EventInput) => Phase[],
  options: { store?: StateStore; restartAfterPhase?: number } = {},
): Promise<{ rows: Row[]; late: string[]; stats: ReturnType<Processor['stats']> }> {
  const bus = backend.bus()
  const run = unique('run')
  const ctx: Ctx = {
    bus,
    a: `${run}.a`,
    b: `${run}.b`,
    out: `${run}.out`,
    late: `${run}.late`,
    name: run,
    store: options.store ?? backend.store(),
    run,
  }
  const results = await collect(bus, ctx.out)
  const late = await collect(bus, ctx.late)
  let processor = await build(ctx)
  let taken = 0
  let before = 0
  const prior = { results: 0, late: 0 }
  // Duplicates count only up to the ids the test published twice: a redelivery (e.g. after the
  // rebalance a join's second subscription causes on Kafka) was counted when first taken, and
  // counting it again would end a phase before its last event was taken.
  const published = new Set<string>()
  let republished = 0
  const done = () => {
    const s = processor.stats()
    return before + s.events + s.late + Math.min(s.duplicates, republished)
  }
  try {
    const phases = inputs((key, seconds, type) => at(run, key, seconds, type))
    for (const [i, phase] of phases.entries()) {
      for (const [, e] of phase) {
        if (e.id !== undefined && published.has(e.id)) republished++
        if (e.id !== undefined) published.add(e.id)
      }
      for (const topic of ['a', 'b'] as const) {
        const events = phase.filter(([t]) => t === topic).map(([, e]) => e)
        if (events.length > 0) await bus.publishBatch(ctx[topic], events)
      }
      taken += phase.length
      await until(
        () => done() >= taken,
        `phase ${i + 1} taken`,
        () => `${done()} of ${taken}`,
      )
      if (options.restartAfterPhase === i + 1) {
        const s = processor.stats()
        before += s.events + s.late + Math.min(s.duplicates, republished)
        republished -= Math.min(s.duplicates, republished)
        prior.results += s.results
        prior.late += s.late
        await processor.close()
        processor = await build(ctx)
      }
    }
    const expected = () => prior.results + processor.stats().results
    const expectedLate = () => prior.late + processor.stats().late
    await until(
      () => results.events.size >= expected() && late.events.size >= expectedLate(),
      'results delivered',
      () => `${results.events.size} results, ${late.events.size} late`,
    )
    const rows = [...results.events.values()].map(row).sort(order)
    const lateIds = [...late.events.keys()].map((id) => id.slice(run.length + 1)).sort()
    return { rows, late: lateIds, stats: processor.stats() }
  } finally {
    await processor.close()
    await results.close()
    await late.close()
    await bus.close()
  }
}
