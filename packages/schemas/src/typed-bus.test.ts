import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import {
  ConfigurationError,
  createEventBus,
  type EventBus,
  type EventEnvelope,
  SchemaValidationError,
  Subscriptions,
  silentLogger,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { defineCatalog, eventSpec } from './catalog.js'
import { type ValidationMiddlewareOptions, validationMiddleware } from './middleware.js'
import { oliveCatalog } from './olive/index.js'
import { createSchemaRegistry } from './registry.js'
import { typedBus } from './typed-bus.js'

const hire = {
  employee_id: 'emp_1',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
}
const approval = { leave_id: 'l1', employee_id: 'emp_1', approved_by: 'mgr_1' }
const task = { task_id: 't1', task_type: 'export' }
const buses: EventBus[] = []

afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})

function bus(
  options: {
    broker?: ReturnType<typeof createMemoryBroker>
    validate?: ValidationMiddlewareOptions | false
  } = {},
): EventBus {
  const registry = createSchemaRegistry().use(oliveCatalog)
  const middleware =
    options.validate === false ? [] : [validationMiddleware(registry, options.validate)]
  const transport = memoryTransport(options.broker === undefined ? {} : { broker: options.broker })
  const b = createEventBus({ transport, source: 'hr-service', middleware, logger: silentLogger })
  buses.push(b)
  return b
}

/** Types and ids, in the order handled. */
const seen = (events: EventEnvelope[]) => events.map((e) => `${e.type} ${String(e.id)}`)

describe('typed bus - delegation', () => {
  it('typed bus - the view is the bus itself: nothing wraps publish or delivery', () => {
    const b = bus()
    expect(typedBus(b, oliveCatalog)).toBe(b)
  })

  it('typed bus - refuses what is not a bus or not a catalog', () => {
    const b = bus()
    expect(() => typedBus({} as EventBus, oliveCatalog)).toThrow(ConfigurationError)
    expect(() => typedBus(b, { name: 'x' } as typeof oliveCatalog)).toThrow(
      /typedBus needs a catalog/,
    )
  })
})

describe('typed bus - publish and routes', () => {
  it('typed bus - routes by exact type, glob and default as bus.subscribe does', async () => {
    const b = bus()
    const olive = typedBus(b, oliveCatalog)
    const hires: EventEnvelope[] = []
    const leaves: EventEnvelope[] = []
    const others: EventEnvelope[] = []
    const all: EventEnvelope[] = []
    const routes = {
      'employee.created': (e: EventEnvelope) => void hires.push(e),
      'leave.*': (e: EventEnvelope) => void leaves.push(e),
      default: (e: EventEnvelope) => void others.push(e),
    }
    await olive.subscribe(['employees.events', 'leaves.events'], routes, { group: 'typed' })
    // The same routes through the untyped bus, in another group, see the same deliveries.
    const untypedHires: EventEnvelope[] = []
    await b.subscribe(
      ['employees.events', 'leaves.events'],
      { 'employee.created': (e) => void untypedHires.push(e), default: (e) => void all.push(e) },
      { group: 'untyped' },
    )

    const created = await olive.publish('employees.events', {
      type: 'employee.created',
      data: hire,
      partitionkey: 'emp_1',
    })
    const approved = await olive.publish('leaves.events', {
      type: 'leave.approved',
      data: approval,
    })
    const deleted = await olive.publish('employees.events', {
      type: 'employee.deleted',
      data: { employee_id: 'emp_1' },
    })
    expect(created).toMatchObject({ type: 'employee.created', data: hire, source: 'hr-service' })
    expect(created.partitionkey).toBe('emp_1')

    await waitUntil(() => hires.length + leaves.length + others.length === 3, {
      timeoutMs: 5_000,
      message: 'three routed events',
    })
    await waitUntil(() => untypedHires.length + all.length === 3, { timeoutMs: 5_000 })
    expect(seen(hires)).toEqual(seen([created]))
    expect(seen(leaves)).toEqual(seen([approved]))
    expect(seen(others)).toEqual(seen([deleted]))
    expect(seen(untypedHires)).toEqual(seen(hires))
    expect(hires[0]!.data).toEqual(hire)
  })

  it('typed bus - one handler over several topics gets every event, in order per topic', async () => {
    const b = bus()
    const olive = typedBus(b, oliveCatalog)
    const events: EventEnvelope[] = []
    const subs = await olive.subscribe(['employees.events', 'system.tasks'], (event) => {
      events.push(event)
    })
    expect(subs).toBeInstanceOf(Subscriptions)
    expect(subs.subscriptions).toHaveLength(2)
    const sent = await olive.publishBatch('system.tasks', [
      { type: 'task.created', data: task },
      { type: 'task.created', data: { ...task, task_id: 't2' } },
    ])
    await olive.publish('employees.events', { type: 'employee.created', data: hire })
    await waitUntil(() => events.length === 3, { timeoutMs: 5_000, message: 'three events' })
    expect(events.filter((e) => e.type === 'task.created').map((e) => e.id)).toEqual(
      sent.map((e) => e.id),
    )
    expect(sent.map((e) => e.data)).toEqual([task, { ...task, task_id: 't2' }])
  })
})

describe('typed bus - validation stays the middleware', () => {
  it('typed bus - invalid data (past the types) is refused on publish and nothing is sent', async () => {
    const b = bus()
    const olive = typedBus(b, oliveCatalog)
    const events: EventEnvelope[] = []
    await olive.subscribe('employees.events', (e) => void events.push(e))
    // A cast gets past the compiler; the bus's validation middleware still refuses it.
    const bad = { type: 'employee.created', data: { employee_id: 'emp_2' } } as never
    const error = await olive.publish('employees.events', bad).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaValidationError)
    expect((error as SchemaValidationError).message).toContain('data.email: is required')
    await expect(olive.publishBatch('employees.events', [bad])).rejects.toThrow(
      SchemaValidationError,
    )
    await olive.publish('employees.events', { type: 'employee.created', data: hire })
    await waitUntil(() => events.length === 1, { timeoutMs: 5_000 })
    expect(events[0]!.data).toEqual(hire)
  })

  it('typed bus - invalid and unknown events from an untyped producer never reach a typed handler', async () => {
    const broker = createMemoryBroker()
    const producer = bus({ broker, validate: false })
    const consumer = typedBus(bus({ broker, validate: { unknownTypes: 'reject' } }), oliveCatalog)
    const handled: EventEnvelope[] = []
    await consumer.subscribe(
      'employees.events',
      { 'employee.*': (e) => void handled.push(e), default: (e) => void handled.push(e) },
      { group: 'mail' },
    )
    const invalid = await producer.publish('employees.events', {
      type: 'employee.created',
      data: { ...hire, email: 'not-an-address' },
    })
    const unknown = await producer.publish('employees.events', {
      type: 'employee.hired',
      data: hire,
    })
    await producer.publish('employees.events', { type: 'employee.created', data: hire })
    await waitUntil(() => handled.length === 1, { timeoutMs: 5_000, message: 'the valid event' })
    let dead: string[] = []
    await waitUntil(
      async () => {
        dead = (await consumer.deadLetters.list('employees.events.dlq')).map(
          (entry) => entry.event?.id ?? '',
        )
        return dead.length === 2
      },
      { timeoutMs: 5_000, message: 'two dead letters' },
    )
    expect(dead.sort()).toEqual([invalid.id, unknown.id].sort())
    expect(handled[0]!.data).toEqual(hire)
  })

  it('typed bus - a custom catalog from defineCatalog validates with the same schemas', async () => {
    const shop = defineCatalog({
      name: 'shop',
      title: 'Shop',
      version: '1.0.0',
      description: 'Orders',
      specs: [
        eventSpec({
          type: 'order.shipped',
          version: 1,
          topic: 'orders',
          summary: 'An order left the warehouse.',
          key: 'order_id',
          schema: {
            type: 'object',
            properties: { order_id: { type: 'string' }, carrier: { enum: ['ups', 'dhl'] } },
            required: ['order_id', 'carrier'],
            additionalProperties: false,
          },
        }),
      ],
    })
    const registry = createSchemaRegistry().use(shop)
    const b = createEventBus({
      transport: memoryTransport(),
      source: 'shop',
      middleware: [validationMiddleware(registry)],
    })
    buses.push(b)
    const typed = typedBus(b, shop)
    const shipped: string[] = []
    await typed.subscribe('orders', { 'order.*': (e) => void shipped.push(e.data.carrier) })
    await typed.publish('orders', {
      type: 'order.shipped',
      data: { order_id: 'o1', carrier: 'dhl' },
    })
    const wrong = { type: 'order.shipped', data: { order_id: 'o2', carrier: 'fedex' } } as never
    await expect(typed.publish('orders', wrong)).rejects.toThrow(/data.carrier/)
    await waitUntil(() => shipped.length === 1, { timeoutMs: 5_000 })
    expect(shipped).toEqual(['dhl'])
    expect(registry.types()).toEqual(['order.shipped'])
  })
})
