// Typing tests of the typed bus, checked by `tsc` in this package's `typecheck` script (CI's
// `pnpm typecheck`). Each `@ts-expect-error` line is a mistake the compiler must refuse: if the
// types let it through, the directive itself becomes the error and the typecheck fails.
import type { EventBus, EventEnvelope, Subscription, Subscriptions } from '@switchyard/core'
import { describe, expectTypeOf, it } from 'vitest'
import { defineCatalog, type EventMapOf, eventSpec } from './catalog.js'
import { type DomainEventData, type MartyEventMap, martyCatalog } from './marty/index.js'
import {
  type EmployeeCreatedData,
  type LeaveApprovedData,
  type LeaveCreatedData,
  type LeaveRejectedData,
  type OliveEventMap,
  oliveCatalog,
} from './olive/index.js'
import type { TypesMatching } from './type-glob.js'
import { type CatalogEvent, type TypedBus, typedBus } from './typed-bus.js'

declare const bus: EventBus
const olive = typedBus(bus, oliveCatalog)
const hire: EmployeeCreatedData = {
  employee_id: 'emp_1',
  email: 'ada@example.com',
  first_name: 'Ada',
  last_name: 'Lovelace',
}

describe('typed bus - publish', () => {
  it('typed bus - publish checks type and data against the catalog', async () => {
    const event = await olive.publish('employees.events', { type: 'employee.created', data: hire })
    expectTypeOf(event.type).toEqualTypeOf<'employee.created'>()
    expectTypeOf(event.data).toEqualTypeOf<EmployeeCreatedData>()
    expectTypeOf(olive).toEqualTypeOf<TypedBus<OliveEventMap>>()

    await olive.publish('employees.events', {
      type: 'employee.created',
      // @ts-expect-error wrong data for a catalog type: `employee.created` needs email and names
      data: { employee_id: 'e' },
    })
    await olive.publish('employees.events', {
      type: 'employee.created',
      // @ts-expect-error wrong data for a catalog type: a field the schema does not define
      data: { ...hire, salary: 100_000 },
    })
    await olive.publish('employees.events', {
      type: 'employee.created',
      // @ts-expect-error wrong data for a catalog type: `email` is a string
      data: { ...hire, email: 42 },
    })
    // @ts-expect-error an event type the catalog does not define
    await olive.publish('employees.events', { type: 'employee.hired', data: hire })
    // @ts-expect-error data of another type (`leave.created`) under `employee.created`
    await olive.publish('leaves.events', { type: 'employee.created', data: leave })
  })

  it('typed bus - publishBatch checks each event against its own type', async () => {
    const task = { task_id: 't1', task_type: 'export' }
    const events = await olive.publishBatch('mixed', [
      { type: 'task.created', data: task },
      { type: 'employee.created', data: hire, partitionkey: 'emp_1' },
    ])
    expectTypeOf(events[0].data).toEqualTypeOf<OliveEventMap['task.created']>()
    expectTypeOf(events[1].type).toEqualTypeOf<'employee.created'>()
    await olive.publishBatch('mixed', [
      { type: 'task.created', data: task },
      // @ts-expect-error wrong data for a catalog type inside a batch
      { type: 'employee.created', data: task },
    ])
  })
})

const leave: LeaveCreatedData = {
  leave_id: 'l1',
  employee_id: 'emp_1',
  leave_type: 'annual',
  start_date: '2026-07-01',
  end_date: '2026-07-10',
}

describe('typed bus - routes', () => {
  it('typed bus - a routed handler gets the data of its type, a glob the union', async () => {
    const sub = await olive.subscribe('employees.events', {
      'employee.created': (event) => {
        expectTypeOf(event.type).toEqualTypeOf<'employee.created'>()
        expectTypeOf(event.data).toEqualTypeOf<EmployeeCreatedData>()
        expectTypeOf(event.data.email).toEqualTypeOf<string>()
        // @ts-expect-error a routed handler reads a field the catalog does not define
        void event.data.salary
      },
      'leave.*': (event) => {
        expectTypeOf(event.type).toEqualTypeOf<
          'leave.created' | 'leave.approved' | 'leave.rejected'
        >()
        expectTypeOf(event.data).toEqualTypeOf<
          LeaveCreatedData | LeaveApprovedData | LeaveRejectedData
        >()
        // @ts-expect-error `approved_by` is only on `leave.approved`: narrow first
        void event.data.approved_by
        if (event.type === 'leave.approved') expectTypeOf(event.data.approved_by).toBeString()
      },
      default: (event) => {
        // Any catalog event: the default takes what no key matched.
        expectTypeOf(event.type).toEqualTypeOf<OliveEventType>()
      },
    })
    expectTypeOf(sub).toEqualTypeOf<Subscription>()
  })

  it('typed bus - the README example compiles as written', async () => {
    const welcome = (email: string) => email
    const audit = (type: string, id: string) => `${type} ${id}`
    const queue = (taskType: string) => taskType
    await olive.subscribe(
      'employees.events',
      {
        'employee.created': (e) => welcome(e.data.email),
        'employee.*': (e) => audit(e.type, e.data.employee_id),
        default: (e) => {
          if (e.type === 'task.created') queue(e.data.task_type)
        },
      },
      { group: 'mail' },
    )
    await olive.publish('employees.events', { type: 'employee.created', data: hire })
  })

  it('typed bus - a glob handler is typed by its own key alone', async () => {
    // At run time `employee.created` goes to its exact route; the glob's type still lists it
    // (a handler is typed before the compiler sees the other keys), a sound superset.
    await olive.subscribe('employees.events', {
      'employee.created': (event) => expectTypeOf(event.data).toEqualTypeOf<EmployeeCreatedData>(),
      'employee.*': (event) =>
        expectTypeOf(event.type).toEqualTypeOf<
          'employee.created' | 'employee.updated' | 'employee.deleted'
        >(),
    })
  })

  it('typed bus - a route key that matches no catalog type is refused', async () => {
    await olive.subscribe('employees.events', {
      // @ts-expect-error `employe.*` (typo) matches no type of the catalog
      'employe.*': () => undefined,
    })
    // @ts-expect-error an unknown type as a route key
    await olive.subscribe('employees.events', { 'employee.hired': () => undefined })
  })

  it('typed bus - one handler narrows data by checking event.type', async () => {
    const subs = await olive.subscribe(['employees.events', 'leaves.events'], (event) => {
      expectTypeOf(event).toEqualTypeOf<CatalogEvent<OliveEventMap>>()
      expectTypeOf(event).toMatchTypeOf<EventEnvelope>()
      if (event.type === 'employee.created') {
        expectTypeOf(event.data).toEqualTypeOf<EmployeeCreatedData>()
      }
      // @ts-expect-error not every catalog event has an `email`: narrow by type first
      void event.data.email
    })
    expectTypeOf(subs).toEqualTypeOf<Subscriptions>()
  })
})

type OliveEventType = keyof OliveEventMap

describe('typed bus - patterns and custom catalogs', () => {
  it('typed bus - a catalog family type (marty.domain.*.*) takes any matching type', async () => {
    const marty = typedBus(bus, martyCatalog)
    const data: DomainEventData = {
      aggregate_type: 'user',
      aggregate_id: 'u1',
      event_type: 'user_created',
      event_data: {},
    }
    await marty.publish('marty.users.user.created', { type: 'marty.domain.user.created', data })
    await marty.subscribe('marty.users.user.created', {
      'marty.domain.user.*': (event) => expectTypeOf(event.data).toEqualTypeOf<DomainEventData>(),
      'marty.audit.user_*': (event) =>
        expectTypeOf(event.type).toEqualTypeOf<
          'marty.audit.user_login' | 'marty.audit.user_logout'
        >(),
    })
    await marty.publish('marty.users.user.created', {
      type: 'marty.domain.user.created',
      // @ts-expect-error domain events need an aggregate id
      data: { aggregate_type: 'user', event_type: 'user_created', event_data: {} },
    })
    expectTypeOf<TypesMatching<keyof MartyEventMap & string, 'marty.**'>>().toEqualTypeOf<
      keyof MartyEventMap & string
    >()
    expectTypeOf<TypesMatching<keyof OliveEventMap & string, '*.created'>>().toEqualTypeOf<
      'employee.created' | 'leave.created' | 'client.created' | 'asset.created' | 'task.created'
    >()
    expectTypeOf<TypesMatching<'a' | 'a.b' | 'a.b.c', 'a.**'>>().toEqualTypeOf<'a.b' | 'a.b.c'>()
  })

  it('typed bus - defineCatalog derives the data types from the JSON Schemas', async () => {
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
          schema: {
            type: 'object',
            properties: { order_id: { type: 'string' }, carrier: { enum: ['ups', 'dhl'] } },
            required: ['order_id', 'carrier'],
            additionalProperties: false,
          },
        }),
      ],
    })
    expectTypeOf<EventMapOf<typeof shop>>().toEqualTypeOf<{
      'order.shipped': { order_id: string; carrier: 'ups' | 'dhl' }
    }>()
    const typed = typedBus(bus, shop)
    await typed.publish('orders', {
      type: 'order.shipped',
      data: { order_id: 'o1', carrier: 'ups' },
    })
    await typed.publish('orders', {
      type: 'order.shipped',
      // @ts-expect-error `fedex` is not in the schema's enum
      data: { order_id: 'o1', carrier: 'fedex' },
    })
  })
})
