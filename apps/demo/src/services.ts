import { constant, type EventBus, type EventInput, readDeadLetter } from '@switchyard/core'

/** Olive-style employee data. */
export interface Employee {
  employee_id: string
  email?: string
  first_name: string
  last_name: string
  department: string
}

/** Olive-style leave request data. */
export interface Leave {
  leave_id: string
  employee_id: string
  days: number
}

/** Counters the demo prints at the end. */
export interface Tally {
  published: number
  handled: Record<string, number>
  retried: number
  deadLettered: number
  deadLetters: string[]
}

/** Topic names of one demo run. */
export interface Topics {
  employees: string
  leaves: string
}

const PEOPLE: Array<[string, string, string]> = [
  ['Ada', 'Lovelace', 'Engineering'],
  ['Grace', 'Hopper', 'Engineering'],
  ['Katherine', 'Johnson', 'Research'],
  ['Alan', 'Turing', 'Research'],
  ['Margaret', 'Hamilton', 'Operations'],
]

/** The HR service: hires people, files and approves leave, and makes one mistake. */
export async function runHrService(bus: EventBus, topics: Topics, tally: Tally): Promise<void> {
  const hires: EventInput<Employee>[] = PEOPLE.map(([first, last, department], i) => ({
    type: 'employee.created',
    subject: `emp_${i + 1}`,
    partitionkey: `emp_${i + 1}`,
    correlationid: `onboarding-${i + 1}`,
    data: {
      employee_id: `emp_${i + 1}`,
      email: `${first.toLowerCase()}@olive.example`,
      first_name: first,
      last_name: last,
      department,
    },
  }))
  // The malformed one: an employee without an email address.
  hires.push({
    type: 'employee.created',
    subject: 'emp_6',
    partitionkey: 'emp_6',
    data: { employee_id: 'emp_6', first_name: 'Nobody', last_name: 'Noemail', department: 'Sales' },
  })
  const created = await bus.publishBatch(topics.employees, hires)
  tally.published += created.length
  await bus.publish(topics.employees, {
    type: 'employee.updated',
    subject: 'emp_1',
    partitionkey: 'emp_1',
    causationid: created[0]!.id,
    data: { employee_id: 'emp_1', first_name: 'Ada', last_name: 'King', department: 'Engineering' },
  })
  tally.published++
  for (let i = 0; i < 3; i++) {
    const filed = await bus.publish<Leave>(topics.leaves, {
      type: 'leave.created',
      partitionkey: `emp_${i + 1}`,
      data: { leave_id: `leave_${i + 1}`, employee_id: `emp_${i + 1}`, days: 2 + i },
    })
    await bus.publish(topics.leaves, {
      type: 'leave.approved',
      partitionkey: `emp_${i + 1}`,
      causationid: filed.id,
      data: { leave_id: `leave_${i + 1}`, employee_id: `emp_${i + 1}`, days: 2 + i },
    })
    tally.published += 2
  }
}

/** The notification service: mails people; a hire without email fails and is retried. */
export async function startNotificationService(
  bus: EventBus,
  topics: Topics,
  tally: Tally,
  log: (line: string) => void,
): Promise<void> {
  const options = {
    group: 'notifications',
    concurrency: 4,
    retry: { maxAttempts: 3, backoff: constant(50) },
  }
  await bus.subscribe<Employee>(
    topics.employees,
    (event) => {
      if (event.type === 'employee.created') {
        if (!event.data?.email) throw new Error(`employee ${event.subject} has no email address`)
        log(`  notifications  welcome mail to ${event.data.email}`)
      }
      tally.handled.notifications = (tally.handled.notifications ?? 0) + 1
    },
    options,
  )
  await bus.subscribe<Leave>(
    topics.leaves,
    (event) => {
      if (event.type === 'leave.approved')
        log(`  notifications  leave ${event.data?.leave_id} approved`)
      tally.handled.notifications = (tally.handled.notifications ?? 0) + 1
    },
    options,
  )
}

/** The audit service: records every event of both topics. */
export async function startAuditService(
  bus: EventBus,
  topics: Topics,
  tally: Tally,
): Promise<void> {
  for (const topic of [topics.employees, topics.leaves]) {
    await bus.subscribe(
      topic,
      () => {
        tally.handled.audit = (tally.handled.audit ?? 0) + 1
      },
      { group: 'audit', concurrency: 8 },
    )
  }
}

/** Watches the employees dead-letter topic and reports what lands there. */
export async function startDeadLetterMonitor(
  bus: EventBus,
  topics: Topics,
  tally: Tally,
  log: (line: string) => void,
): Promise<void> {
  await bus.subscribe(
    `${topics.employees}.dlq`,
    (event) => {
      const entry = readDeadLetter(event)
      tally.deadLettered++
      tally.deadLetters.push(entry.event?.subject ?? '?')
      log(
        `  dead-letter    ${entry.event?.type} ${entry.event?.subject} after ${entry.attempts} attempts: ${entry.error.message}`,
      )
    },
    { group: 'dlq-monitor', startAt: 'earliest' },
  )
}
