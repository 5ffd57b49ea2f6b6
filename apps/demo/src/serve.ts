import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { createEventBus, silentLogger } from '@switchyard/core'
import { createGateway, mintToken } from '@switchyard/gateway'
import { migrate } from '@switchyard/outbox'
import {
  payrollContract,
  type ServeTopics,
  startAudit,
  startFlakyNotifications,
  startOutbox,
} from './serve-services.js'
import { type TransportName, transportFactory } from './transports.js'

/** Options of `serveConsole`. */
export interface ServeOptions {
  transport: TransportName
  host: string
  port: number
}

/** A running served demo: where to look, with which tokens, and how to stop it. */
export interface ServedDemo {
  consoleUrl: string
  operatorToken: string
  tenantToken: string
  stop(): Promise<void>
}

const PEOPLE = [
  ['Ada', 'Lovelace'],
  ['Grace', 'Hopper'],
  ['Katherine', 'Johnson'],
  ['Alan', 'Turing'],
  ['Margaret', 'Hamilton'],
  ['Edsger', 'Dijkstra'],
  ['Barbara', 'Liskov'],
  ['Donald', 'Knuth'],
] as const

/**
 * The demo's services kept running, with the gateway and its console on their bus: the HR
 * service publishes through the gateway's REST API twice a second (so the console's publish
 * rates move), notifications dead-letter every seventh welcome mail, audit reads everything, and
 * an outbox relay parks a payroll export without an IBAN.
 */
export async function serveConsole(options: ServeOptions): Promise<ServedDemo> {
  const make = await transportFactory(options.transport)
  const run = options.transport === 'memory' ? '' : `.${Date.now().toString(36)}`
  const topics: ServeTopics = {
    employees: `employees.events${run}`,
    leaves: `leaves.events${run}`,
    outbox: `employees.outbox${run}`,
  }
  // Dead letters are the point of the exercise here: the console shows them, the log need not.
  const bus = (source: string, middleware = [] as (typeof payrollContract)[]) =>
    createEventBus({ transport: make(), source, logger: silentLogger, middleware })
  const notifications = bus('notification-service')
  const audit = bus('audit-service')
  const relayBus = bus('hr-outbox', [payrollContract])
  await startFlakyNotifications(notifications, topics)
  await startAudit(audit, topics)
  const db = new PGlite()
  await migrate(db)
  const outbox = await startOutbox(db, relayBus, topics.outbox)

  const secret = randomBytes(32).toString('hex')
  const gateway = await createGateway({
    bus: bus('switchyard-gateway'),
    auth: { secret },
    streams: [{ id: topics.employees }, { id: topics.leaves }, { id: topics.outbox }],
    outbox: { db },
  })
  const base = await gateway.listen({ host: options.host, port: options.port })
  const operatorToken = await mintToken({ secret, roles: ['admin'], subject: 'demo-operator' })
  const tenantToken = await mintToken({
    secret,
    tenant: 'olive',
    roles: ['admin:employees.**', 'subscriber:employees.**'],
    subject: 'demo-olive',
  })
  const publisher = await mintToken({ secret, roles: ['publisher'], subject: 'hr-service' })

  let n = 0
  let warned = false
  const publish = (stream: string, type: string, payload: unknown, subject: string) =>
    fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        event_type: type,
        stream_id: stream,
        aggregate_id: subject,
        tenant_id: n % 3 === 0 ? 'marty' : 'olive',
        payload,
      }),
    }).then(async (r) => {
      // A refusal means the demo is wrong: say so once rather than publish nothing silently.
      if (r.status >= 400 && !warned) {
        warned = true
        console.error(`demo: the gateway refused an event (${r.status}): ${await r.text()}`)
      } else await r.arrayBuffer()
    })
  const traffic = setInterval(() => {
    n++
    const id = `emp_${n}`
    const [first, last] = PEOPLE[n % PEOPLE.length]!
    // Olive's catalog is preloaded: the gateway validates both types against it.
    const hire = {
      employee_id: id,
      first_name: first,
      last_name: last,
      email: `${first.toLowerCase()}.${n}@olive.example`,
      department: 'Engineering',
    }
    void publish(topics.employees, 'employee.created', hire, id).catch(() => undefined)
    if (n % 2 === 0) {
      const day = new Date(Date.now() + 86_400_000 * (n % 20)).toISOString().slice(0, 10)
      const leave = {
        leave_id: `leave_${n}`,
        employee_id: id,
        leave_type: 'annual',
        start_date: day,
        end_date: day,
        days: 1,
      }
      void publish(topics.leaves, 'leave.created', leave, id).catch(() => undefined)
    }
  }, 500)

  return {
    consoleUrl: `${base}/console/`,
    operatorToken,
    tenantToken,
    async stop() {
      clearInterval(traffic)
      clearInterval(outbox.timer)
      await outbox.relay.stop()
      await gateway.close()
      await Promise.all([notifications, audit, relayBus].map((b) => b.close()))
      await db.close()
    },
  }
}
