import type { PGlite } from '@electric-sql/pglite'
import {
  type EventBus,
  type EventEnvelope,
  type Middleware,
  SchemaValidationError,
} from '@switchyard/core'
import { createRelay, enqueue, type OutboxRelay, pgliteDriver } from '@switchyard/outbox'
import type { Employee } from './services.js'

/** Topic names of a served demo. */
export interface ServeTopics {
  employees: string
  leaves: string
  outbox: string
}

/**
 * The notification service of the served demo: every seventh welcome mail meets a mail server
 * that refuses it three times (the group's whole retry budget), so it is dead-lettered; a
 * replay from the console finds the server willing and the mail goes out.
 */
export async function startFlakyNotifications(bus: EventBus, topics: ServeTopics): Promise<void> {
  const attempts = new Map<string, number>()
  let hires = 0
  const unlucky = new Set<string>()
  await bus.subscribe<Employee>(
    topics.employees,
    (event: EventEnvelope<Employee>) => {
      if (event.type !== 'employee.created') return
      if (!attempts.has(event.id) && ++hires % 7 === 0) unlucky.add(event.id)
      const attempt = (attempts.get(event.id) ?? 0) + 1
      attempts.set(event.id, attempt)
      if (unlucky.has(event.id) && attempt <= 3) {
        throw new Error(`SMTP 421 mail.olive.example: try again later (to ${event.data?.email})`)
      }
    },
    { group: 'notifications', retry: { maxAttempts: 3, backoff: () => 100 } },
  )
  await bus.subscribe(topics.leaves, () => undefined, { group: 'notifications' })
}

/** The audit service: reads both topics, never fails. */
export async function startAudit(bus: EventBus, topics: ServeTopics): Promise<void> {
  for (const topic of [topics.employees, topics.leaves]) {
    await bus.subscribe(topic, () => undefined, { group: 'audit' })
  }
}

/**
 * The payroll contract the relay's bus enforces: an export needs an IBAN. A row without one
 * fails with an error retrying cannot fix, so the relay parks it, for the console's outbox page.
 */
export const payrollContract: Middleware = {
  name: 'payroll-contract',
  publish: async (ctx, next) => {
    const data = ctx.event.data as { iban?: string } | undefined
    if (ctx.event.type === 'payroll.exported' && !data?.iban) {
      throw new SchemaValidationError([{ path: '/iban', message: 'is required' }], {
        eventType: ctx.event.type,
      })
    }
    await next()
  },
}

/**
 * The outbox part: a relay over PGlite publishing to `bus`, a hire written every ten seconds,
 * and one payroll export without an IBAN that the relay parks.
 */
export async function startOutbox(
  db: PGlite,
  bus: EventBus,
  topic: string,
): Promise<{ relay: OutboxRelay; timer: NodeJS.Timeout }> {
  const relay = createRelay({ driver: pgliteDriver(db), bus, retentionMs: 60_000 })
  await relay.start()
  const write = (type: string, data: Record<string, unknown>) =>
    db.transaction((tx) => enqueue(tx, topic, { type, source: 'hr-service', data }))
  await write('payroll.exported', { employee_id: 'emp_3', amount: 4200 })
  let n = 100
  await write('employee.hired', { id: `e-${n}`, name: 'Ada Lovelace' })
  const timer = setInterval(() => {
    n++
    void write('employee.hired', { id: `e-${n}`, name: `Hire ${n}` }).catch(() => undefined)
  }, 10_000)
  return { relay, timer }
}
