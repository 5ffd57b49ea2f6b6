import type { EventBus, EventEnvelope } from '@switchyard/core'
import type { Processor, StateStore } from '@switchyard/streams'
import {
  employeesWithoutAsset,
  executionDurations,
  leavePerDepartmentPerHour,
  topics,
} from './pipelines.js'
import { sampleEvents } from './sample.js'

/** What the three pipelines emitted for the sample, by output topic. */
export interface ExampleResults {
  hourly: EventEnvelope[]
  alerts: EventEnvelope[]
  durations: EventEnvelope[]
  late: EventEnvelope[]
}

/**
 * Starts the three pipelines, publishes the sample, and resolves with their results once the
 * expected number arrived (7 in all: 4 hourly counts, 2 alerts, 2 durations... see README).
 */
export async function runExample(
  bus: EventBus,
  store: StateStore,
  expected = { hourly: 4, alerts: 2, durations: 2, late: 1 },
  timeoutMs = 30_000,
): Promise<ExampleResults> {
  const results: ExampleResults = { hourly: [], alerts: [], durations: [], late: [] }
  const outputs = [
    [topics.hourly, results.hourly],
    [topics.alerts, results.alerts],
    [topics.durations, results.durations],
    [`${topics.leave}.late`, results.late],
  ] as const
  const subs = await Promise.all(
    outputs.map(([topic, list]) =>
      bus.subscribe(
        topic,
        (e) => {
          if (!list.some((x) => x.id === e.id)) list.push(e)
        },
        { group: 'example-results', startAt: 'earliest' },
      ),
    ),
  )
  const processors: Processor[] = [
    await leavePerDepartmentPerHour(bus, store),
    await employeesWithoutAsset(bus, store),
    await executionDurations(bus, store),
  ]
  try {
    // The join's sides are two topics: started before completed keeps the sample deterministic.
    for (const [topic, event] of sampleEvents()) await bus.publish(topic, event)
    const deadline = Date.now() + timeoutMs
    const done = () =>
      (Object.keys(expected) as (keyof ExampleResults)[]).every(
        (k) => results[k].length >= expected[k],
      )
    while (!done()) {
      if (Date.now() > deadline)
        throw new Error(`example timed out: ${JSON.stringify(counts(results))}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return results
  } finally {
    for (const p of processors) await p.close()
    for (const s of subs) await s.close()
  }
}

function counts(results: ExampleResults): Record<string, number> {
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.length]))
}
