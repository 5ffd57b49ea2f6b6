import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import {
  createEventBus,
  type DeadLetterRecord,
  type EventBus,
  type EventEnvelope,
  SchemaValidationError,
} from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { validationMiddleware } from './middleware.js'
import { createEmployeeEvent, getSchemaRegistry, oliveCatalog } from './olive/index.js'
import { createSchemaRegistry } from './registry.js'

const TOPIC = 'employees.events'
const valid = {
  employee_id: 'emp_1',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
}
const buses: EventBus[] = []

afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()))
})

function bus(
  options: {
    broker?: ReturnType<typeof createMemoryBroker>
    validate?: Parameters<typeof validationMiddleware>[1] | false
  } = {},
): EventBus {
  const middleware =
    options.validate === false ? [] : [validationMiddleware(getSchemaRegistry(), options.validate)]
  const transport = memoryTransport(options.broker === undefined ? {} : { broker: options.broker })
  const b = createEventBus({ transport, source: 'hr-service', middleware })
  buses.push(b)
  return b
}

async function received(b: EventBus, topic = TOPIC): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = []
  await b.subscribe(topic, (event) => void events.push(event), {
    group: `rec-${crypto.randomUUID()}`,
  })
  return events
}

/** Waits for exactly one entry in the topic's dead-letter topic and returns the list. */
async function oneDeadLetter(b: EventBus): Promise<DeadLetterRecord[]> {
  let entries: DeadLetterRecord[] = []
  await waitUntil(
    async () => {
      entries = await b.deadLetters.list(`${TOPIC}.dlq`)
      return entries.length === 1
    },
    { timeoutMs: 5_000, message: 'one dead-letter entry' },
  )
  return entries
}

describe('middleware - publish', () => {
  it('middleware - a valid event is sent', async () => {
    const b = bus()
    const events = await received(b)
    await b.publish(TOPIC, { type: 'employee.created', data: valid })
    await waitUntil(() => events.length === 1, { timeoutMs: 5_000 })
    expect(events[0]!.data).toEqual(valid)
  })

  it('middleware - an invalid event rejects publish and nothing is sent', async () => {
    const b = bus()
    const events = await received(b)
    const error = await b
      .publish(TOPIC, { type: 'employee.created', data: { ...valid, email: 'nope', x: 1 } })
      .catch((e) => e)
    expect(error).toBeInstanceOf(SchemaValidationError)
    expect(error.issues).toEqual([
      { path: 'data.x', message: 'is not an allowed property' },
      { path: 'data.email', message: 'must match format "email"' },
    ])
    // A later valid event arrives alone: the invalid one never reached the transport.
    await b.publish(TOPIC, { type: 'employee.created', data: valid, subject: 'sentinel' })
    await waitUntil(() => events.length === 1, { timeoutMs: 5_000 })
    expect(events.map((e) => e.subject)).toEqual(['sentinel'])
  })

  it('middleware - one invalid event keeps a whole batch back', async () => {
    const b = bus()
    const events = await received(b)
    const batch = [
      { type: 'employee.created', data: valid },
      { type: 'employee.created', data: { ...valid, employee_id: '' } },
    ]
    await expect(b.publishBatch(TOPIC, batch)).rejects.toThrow(SchemaValidationError)
    await b.publish(TOPIC, { type: 'employee.deleted', data: { employee_id: 'emp_1' } })
    await waitUntil(() => events.length === 1, { timeoutMs: 5_000 })
    expect(events.map((e) => e.type)).toEqual(['employee.deleted'])
  })

  it('middleware - unknown types pass by default and fail with unknownTypes: reject', async () => {
    await expect(bus().publish(TOPIC, { type: 'custom.thing', data: 1 })).resolves.toBeDefined()
    const strict = bus({ validate: { unknownTypes: 'reject' } })
    const error = await strict.publish(TOPIC, { type: 'custom.thing', data: 1 }).catch((e) => e)
    expect(error).toBeInstanceOf(SchemaValidationError)
    expect(error.issues).toEqual([
      { path: 'type', message: '"custom.thing" has no registered schema' },
    ])
  })

  it('middleware - request/reply still works when unknown types are rejected', async () => {
    const registry = createSchemaRegistry().register(
      'calc.sum',
      z.object({ numbers: z.array(z.number()) }),
    )
    const b = createEventBus({
      transport: memoryTransport(),
      source: 'calc',
      middleware: [validationMiddleware(registry, { unknownTypes: 'reject' })],
    })
    buses.push(b)
    await b.respond<{ numbers: number[] }>('calc', (event) =>
      event.data!.numbers.reduce((a, n) => a + n, 0),
    )
    const reply = await b.request('calc', { type: 'calc.sum', data: { numbers: [1, 2] } })
    expect(reply.data).toBe(3)
    await expect(b.request('calc', { type: 'calc.sum', data: { numbers: ['1'] } })).rejects.toThrow(
      SchemaValidationError,
    )
  })

  it('middleware - validates against the version named by dataschema', async () => {
    const registry = createSchemaRegistry()
      .use(oliveCatalog)
      .register(
        'employee.created',
        {
          ...oliveCatalog.events[0]!.schema,
          $id: 'https://example.com/employee.created/v2',
          required: ['employee_id'],
        },
        2,
      )
    const b = createEventBus({
      transport: memoryTransport(),
      source: 'hr',
      middleware: [validationMiddleware(registry)],
    })
    buses.push(b)
    await expect(
      b.publish(TOPIC, { type: 'employee.created', data: { employee_id: 'e' } }),
    ).resolves.toBeDefined()
    const v1 = {
      type: 'employee.created',
      data: { employee_id: 'e' },
      dataschema: oliveCatalog.events[0]!.id,
    }
    await expect(b.publish(TOPIC, v1)).rejects.toThrow(/data.email: is required/)
  })
})

describe('middleware - consume', () => {
  it('middleware - an invalid event is dead-lettered with its errors and the consumer keeps going', async () => {
    const broker = createMemoryBroker()
    const producer = bus({ broker, validate: false })
    const consumer = bus({ broker })
    const handled: EventEnvelope[] = []
    await consumer.subscribe(TOPIC, (event) => void handled.push(event), { group: 'notifications' })
    const bad = await producer.publish(TOPIC, {
      type: 'employee.created',
      data: { ...valid, email: 'ada@', first_name: 7 },
    })
    await producer.publish(
      TOPIC,
      createEmployeeEvent('employee.created', valid, { source: 'hr-service' }),
    )
    await waitUntil(() => handled.length === 1, {
      timeoutMs: 5_000,
      message: 'the valid event after the invalid one',
    })
    expect(handled[0]!.data).toEqual(valid)

    const [entry] = await oneDeadLetter(consumer)
    expect(entry!.event?.id).toBe(bad.id)
    expect(entry!.attempts).toBe(1)
    expect(entry!.group).toBe('notifications')
    expect(entry!.error).toMatchObject({
      name: 'SchemaValidationError',
      code: 'ERR_SCHEMA_VALIDATION',
    })
    expect(entry!.error.message).toContain('data.first_name: must be string')
    expect(entry!.error.message).toContain('data.email: must match format "email"')
    expect(entry!.reason).toBe(
      'schema validation failed: data.email: must match format "email"; data.first_name: must be string',
    )
    // The issues also travel as a list, for tools that read dead letters.
    expect(entry!.error.issues?.map((issue) => issue.path).sort()).toEqual([
      'data.email',
      'data.first_name',
    ])
  })

  it('middleware - with unknownTypes: reject, an unknown type is dead-lettered on consume', async () => {
    const broker = createMemoryBroker()
    const producer = bus({ broker, validate: false })
    const consumer = bus({ broker, validate: { unknownTypes: 'reject' } })
    const handled: EventEnvelope[] = []
    await consumer.subscribe(TOPIC, (event) => void handled.push(event), { group: 'strict' })
    const stray = await producer.publish(TOPIC, { type: 'employee.teleported', data: {} })
    await producer.publish(TOPIC, { type: 'employee.created', data: valid })
    await waitUntil(() => handled.length === 1, { timeoutMs: 5_000 })
    expect(handled[0]!.type).toBe('employee.created')
    const entries = await oneDeadLetter(consumer)
    expect(entries[0]!.event?.id).toBe(stray.id)
    expect(entries[0]!.attempts).toBe(1)
    expect(entries[0]!.error.name).toBe('SchemaValidationError')
    expect(entries[0]!.reason).toContain('employee.teleported')
  })

  it('middleware - consume validation can be switched off', async () => {
    const broker = createMemoryBroker()
    const producer = bus({ broker, validate: false })
    const consumer = bus({ broker, validate: { consume: false } })
    const handled = await received(consumer)
    await producer.publish(TOPIC, { type: 'employee.created', data: { nonsense: true } })
    await waitUntil(() => handled.length === 1, { timeoutMs: 5_000 })
  })

  it('middleware - rejects unknown options', () => {
    expect(() => validationMiddleware(getSchemaRegistry(), { strict: true } as never)).toThrow(
      /Unknown option/,
    )
    expect(() =>
      validationMiddleware(getSchemaRegistry(), { unknownTypes: 'drop' } as never),
    ).toThrow(/allow/)
  })
})
