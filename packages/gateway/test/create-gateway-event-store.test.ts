import { PGlite } from '@electric-sql/pglite'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventStore, pgliteDriver } from '@switchyard/event-store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningGateway, startGateway } from './support.js'

// createGateway hands its eventStore option to the plugin: the query routes exist and read it.
describe('createGateway with an eventStore', () => {
  const db = new PGlite()
  let gw: RunningGateway
  beforeAll(async () => {
    const eventStore = createEventStore({
      driver: pgliteDriver(db),
      source: 'create-gateway-test',
      outbox: false,
    })
    await eventStore.migrate()
    await eventStore.append('employee-e7', [
      { type: 'employee.hired', data: { name: 'Ada' } },
      { type: 'employee.left', data: { name: 'Ada' } },
    ])
    gw = await startGateway(memoryTransport({ broker: createMemoryBroker() }), {
      eventStore,
      preloadCatalogs: false,
      console: false,
    })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await db.close()
  })

  it('createGateway - eventStore: GET /api/v1/events/{id} and POST /api/v1/events/query serve the store', async () => {
    const token = await gw.token({ roles: ['admin'] })
    const query = await call(`${gw.url}/api/v1/events/query`, {
      token,
      json: { types: ['employee.*'] },
    })
    expect(query.status).toBe(200)
    const types = query.body.events.map((e: { event: { type: string } }) => e.event.type)
    expect(types).toEqual(['employee.hired', 'employee.left'])
    const id = query.body.events[1].event.id as string
    const one = await call(`${gw.url}/api/v1/events/${id}`, { token })
    expect(one.status).toBe(200)
    expect(one.body).toMatchObject({ stream_id: 'employee-e7', stream_version: 2 })
  })

  it('createGateway - without an eventStore the query routes do not exist', async () => {
    const bare = await startGateway(memoryTransport({ broker: createMemoryBroker() }), {
      preloadCatalogs: false,
      console: false,
    })
    try {
      const token = await bare.token({ roles: ['admin'] })
      const query = await call(`${bare.url}/api/v1/events/query`, { token, json: {} })
      expect(query.status).toBe(404)
    } finally {
      await bare.close()
    }
  })
})
