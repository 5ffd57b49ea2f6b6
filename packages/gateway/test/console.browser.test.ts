import { randomBytes } from 'node:crypto'
import { PGlite } from '@electric-sql/pglite'
import { createMemoryBroker, memoryTransport } from '@switchyard/adapter-memory'
import { createEventBus, type EventBus, type EventEnvelope, silentLogger } from '@switchyard/core'
import { enqueue, migrate } from '@switchyard/outbox'
import { waitUntil } from '@switchyard/testkit'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { browserOrSkip, launchChromium, loggedIn, screenshot } from './console-browser.js'
import { call, type RunningGateway, startGateway } from './support.js'

const skip = browserOrSkip()
const suffix = randomBytes(3).toString('hex')
const ORDERS = `acme.orders.${suffix}`
const GLOBEX = `globex.ledger.${suffix}`

describe.skipIf(skip !== undefined)(
  `console in Chromium${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    let gw: RunningGateway
    let worker: EventBus
    let browser: Browser
    let db: PGlite
    let admin: string
    let operator: Page
    const billing = { healed: false, handled: [] as EventEnvelope[] }

    beforeAll(async () => {
      const broker = createMemoryBroker()
      db = new PGlite()
      await migrate(db)
      // One row the relay gave up on, for the outbox page.
      const [parked] = await enqueue(db, ORDERS, {
        type: 'order.created',
        source: 'shop',
        data: { n: 0 },
      })
      await db.query(
        `UPDATE outbox SET parked_at = now(), attempts = 5,
           last_error = 'PublishError: broker refused the message' WHERE id = $1`,
        [parked!.id],
      )
      gw = await startGateway(memoryTransport({ broker }), {
        outbox: { db },
        live: { monitoringIntervalMs: 500 },
      })
      admin = await gw.token({ roles: ['admin'] })
      for (const id of [ORDERS, GLOBEX]) {
        expect(
          (await call(`${gw.url}/api/v1/streams`, { token: admin, json: { id } })).status,
        ).toBe(201)
      }
      worker = createEventBus({
        transport: memoryTransport({ broker }),
        source: 'billing',
        logger: silentLogger,
      })
      await worker.subscribe(
        ORDERS,
        (event: EventEnvelope<{ fail?: string }>) => {
          if (!billing.healed && event.data?.fail !== undefined) throw new Error(event.data.fail)
          billing.handled.push(event)
        },
        { group: 'billing', retry: { maxAttempts: 2, backoff: () => 10 } },
      )
      // A group that stopped reading: its lag grows with every event, for the groups page.
      const reporting = await worker.subscribe(ORDERS, () => undefined, { group: 'reporting' })
      await reporting.close()
      browser = await launchChromium()
      operator = await loggedIn(browser, gw.url, admin)
    })
    afterAll(async () => {
      await browser?.close()
      await worker?.close()
      await gw?.close()
      await db?.close()
    })

    const publish = (stream: string, data: unknown, tenant = 'acme') =>
      call(`${gw.url}/api/v1/events`, {
        token: admin,
        json: { event_type: 'order.created', stream_id: stream, payload: data, tenant_id: tenant },
      })

    test("console - log in and see a stream's publish rate move while events are published", async () => {
      await operator.goto(`${gw.url}/console/#/streams`)
      const row = operator.locator(`tr[data-stream="${ORDERS}"]`)
      await row.waitFor()
      const rate = row.locator('td[data-rate]')
      expect(Number(await rate.getAttribute('data-rate'))).toBe(0)
      // Publish until the page shows a rate above zero (each frame reads the counter afresh).
      let sent = 0
      await waitUntil(
        async () => {
          for (let i = 0; i < 10; i++)
            expect((await publish(ORDERS, { n: ++sent })).status).toBe(202)
          return Number(await rate.getAttribute('data-rate')) > 0
        },
        { timeoutMs: 30_000, intervalMs: 50, message: 'the rate cell to move above 0' },
      )
      await operator.locator('.chart').waitFor()
      await screenshot(operator, 'streams')
      await operator.getByRole('link', { name: 'Consumer groups' }).click()
      await operator.locator('tr[data-group="billing"] td[data-lag]').waitFor()
      const lag = operator.locator('tr[data-group="reporting"] td[data-lag]')
      await waitUntil(async () => Number(await lag.getAttribute('data-lag')) >= sent, {
        timeoutMs: 10_000,
        message: `the stopped group's lag to show the ${sent} events it did not read`,
      })
      await screenshot(operator, 'groups')
      await operator.goto(`${gw.url}/console/#/tail?stream=${ORDERS}`)
      await operator.getByText('live', { exact: true }).waitFor()
      const tailed = await publish(ORDERS, { n: 'tailed', note: 'shown by the live tail' })
      await operator.locator(`tr[data-event="${tailed.body.event_id}"]`).waitFor()
      await screenshot(operator, 'tail')
    })

    test('console - find a dead letter by its reason, replay it, and the group handles it', async () => {
      const reason = `card declined for order ${randomBytes(3).toString('hex')}`
      const failed = await publish(ORDERS, { fail: reason })
      await publish(ORDERS, { fail: 'another failure' })
      await waitUntil(
        async () =>
          (await call(`${gw.url}/api/v1/streams/${ORDERS}/dead-letters`, { token: admin })).body
            .matched >= 2,
        { timeoutMs: 20_000, intervalMs: 100, message: 'two dead letters' },
      )
      await operator.goto(`${gw.url}/console/#/dead-letters?stream=${ORDERS}`)
      await operator.locator('tr[data-entry]').nth(1).waitFor()
      const filter = operator.getByLabel('Error or reason')
      await filter.fill(reason)
      await filter.press('Enter')
      await filter.blur()
      await waitUntil(async () => (await operator.locator('tr[data-entry]').count()) === 1, {
        timeoutMs: 10_000,
        message: 'the list to narrow to the one dead letter',
      })
      const row = operator.locator('tr[data-entry]')
      await row.getByRole('button', { name: new RegExp(reason) }).click()
      const detail = operator.getByRole('complementary', { name: 'Dead letter' })
      await detail.getByText(failed.body.event_id).first().waitFor()
      await screenshot(operator, 'dead-letters')

      billing.healed = true
      await row.getByRole('checkbox').check()
      await operator.getByRole('button', { name: 'Replay selected (1)' }).click()
      const dialog = operator.getByRole('dialog', { name: 'Confirm' })
      await dialog.waitFor()
      await screenshot(operator, 'dead-letters-confirm')
      await dialog.getByRole('button', { name: 'Replay' }).click()
      await operator.getByRole('status').getByText('Replayed 1').waitFor()
      await waitUntil(() => billing.handled.some((e) => e.id === failed.body.event_id), {
        timeoutMs: 20_000,
        message: 'the billing group to handle the replayed event',
      })
      await waitUntil(async () => (await operator.locator('tr[data-entry]').count()) === 0, {
        timeoutMs: 10_000,
        message: 'the replayed entry to leave the open list',
      })
    })

    test("console - a tenant's token is refused another tenant's stream", async () => {
      await publish(GLOBEX, { secret: 'globex only' }, 'globex')
      const acme = await gw.token({
        tenant: 'acme',
        roles: ['admin:acme.**', 'subscriber:acme.**'],
      })
      const page = await loggedIn(browser, gw.url, acme)
      await page.locator(`tr[data-stream="${ORDERS}"]`).waitFor()
      expect(await page.locator(`tr[data-stream="${GLOBEX}"]`).count()).toBe(0)
      await page.goto(`${gw.url}/console/#/dead-letters?stream=${GLOBEX}`)
      const refusal = page.getByRole('alert')
      await refusal.waitFor()
      expect(await refusal.getAttribute('data-status')).toBe('403')
      expect(await refusal.textContent()).toMatch(/needs the "subscriber" role on stream/)
      await screenshot(page, 'refused')
      await page.goto(`${gw.url}/console/#/tail?stream=${GLOBEX}`)
      await page
        .getByRole('alert')
        .getByText(/Refused \(403\)/)
        .waitFor()
      await page.goto(`${gw.url}/console/#/outbox`)
      await page
        .getByRole('alert')
        .getByText(/Refused \(403\)/)
        .waitFor()
      await page.context().close()
    })

    test('console - outbox and schemas pages show the parked row and the registry', async () => {
      await operator.goto(`${gw.url}/console/#/outbox`)
      await operator.getByText('broker refused the message').waitFor()
      expect(await operator.locator('[data-parked]').textContent()).toBe('1')
      await screenshot(operator, 'outbox')
      await operator.goto(`${gw.url}/console/#/schemas`)
      await operator.getByRole('button', { name: 'employee.created' }).first().click()
      await operator.locator('aside pre').waitFor()
      await screenshot(operator, 'schemas')
    })
  },
)
