import type { EventBus, EventEnvelope } from '@switchyard/core'
import {
  notFollowedBy,
  type Processor,
  type StateStore,
  stream,
  tumbling,
} from '@switchyard/streams'

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** Topics the example reads and writes. */
export const topics = {
  leave: 'olive.leave',
  hr: 'olive.hr',
  started: 'anumate.executions.started',
  completed: 'anumate.executions.completed',
  hourly: 'olive.leave.hourly',
  alerts: 'olive.alerts',
  durations: 'anumate.executions.durations',
} as const

type LeaveData = { employee_id: string; department: string }
type HrData = { employee_id: string }
type ExecutionData = { execution_id: string }
type Hr = EventEnvelope<HrData>
type Execution = EventEnvelope<ExecutionData>

/** Olive: leave requests per department per hour (tumbling count, 5 minutes of grace). */
export function leavePerDepartmentPerHour(bus: EventBus, store: StateStore): Promise<Processor> {
  return stream<LeaveData>(bus, topics.leave, { group: 'leave-per-hour', store })
    .filter((e) => e.type === 'leave.requested')
    .keyBy((e) => e.data?.department ?? 'unknown')
    .window(tumbling(HOUR), { grace: 5 * MINUTE })
    .count()
    .to(topics.hourly, { type: 'leave.requests.hourly' })
}

/**
 * Olive: an employee created and no asset assigned within two days (an absence pattern). Keyed
 * by tenant so every HR event moves the clock; the employee id correlates the two events.
 */
export function employeesWithoutAsset(bus: EventBus, store: StateStore): Promise<Processor> {
  return stream<HrData>(bus, topics.hr, { group: 'asset-watch', store })
    .keyBy((e) => e.tenantid ?? 'default')
    .pattern(
      notFollowedBy<Hr>(
        (e) => e.type === 'employee.created',
        (e) => e.type === 'asset.assigned',
        { within: 2 * DAY, where: (a, b) => a.data?.employee_id === b.data?.employee_id },
      ),
    )
    .map((m) => ({
      employee_id: m.first.data?.employee_id,
      deadline: new Date(m.deadline).toISOString(),
    }))
    .to(topics.alerts, { type: 'employee.asset.missing' })
}

/** Anumate: execution.started joined with execution.completed (within a day) into durations. */
export function executionDurations(bus: EventBus, store: StateStore): Promise<Processor> {
  const byId = (e: Execution) => e.data?.execution_id ?? ''
  const started = stream<ExecutionData>(bus, topics.started, { group: 'durations', store })
  const completed = stream<ExecutionData>(bus, topics.completed, { group: 'durations' })
  return started
    .keyBy(byId)
    .join(completed.keyBy(byId), { within: DAY })
    .map((pair) => ({ execution_id: byId(pair.left), duration_ms: pair.deltaMs }))
    .to(topics.durations, { type: 'execution.duration' })
}
