import { Webhook } from 'standardwebhooks'
import { describe, expect, test } from 'vitest'
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../src/index.js'
import { headerValue, httpMessage } from '../src/subscriptions/cloudevents-http.js'
import { newWebhookSecret } from '../src/subscriptions/signing.js'
import { TargetGuard } from '../src/subscriptions/ssrf.js'
import { retryAfterMs } from '../src/subscriptions/webhook.js'

describe('webhook helpers', () => {
  test('signing - our signature verifies with the Standard Webhooks reference and back', () => {
    const secret = newWebhookSecret()
    const body = '{"total":42}'
    const now = Date.now()
    const timestamp = Math.floor(now / 1000)
    const headers = {
      'webhook-id': 'evt-1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, 'evt-1', timestamp, body),
    }
    expect(new Webhook(secret).verify(body, headers)).toEqual({ total: 42 })
    const theirs = new Webhook(secret).sign('evt-2', new Date(timestamp * 1000), body)
    const signed = { ...headers, 'webhook-id': 'evt-2', 'webhook-signature': `v0,bad ${theirs}` }
    expect(verifyWebhook({ secret, headers: signed, body })).toEqual({ id: 'evt-2', timestamp })
  })

  test('signing - a stale timestamp, another secret or a missing header is refused', () => {
    const secret = newWebhookSecret()
    const stamp = Math.floor(Date.now() / 1000) - 600
    const headers = {
      'webhook-id': 'evt-1',
      'webhook-timestamp': String(stamp),
      'webhook-signature': signWebhook(secret, 'evt-1', stamp, 'x'),
    }
    expect(() => verifyWebhook({ secret, headers, body: 'x' })).toThrow(/300 s/)
    expect(verifyWebhook({ secret, headers, body: 'x', toleranceSeconds: 900 }).id).toBe('evt-1')
    const other = newWebhookSecret()
    expect(() =>
      verifyWebhook({ secret: other, headers, body: 'x', toleranceSeconds: 900 }),
    ).toThrow(WebhookVerificationError)
    expect(() => verifyWebhook({ secret, headers: new Headers(), body: 'x' })).toThrow(/lacks/)
  })

  test('cloudevents - binary mode names headers ce-* and percent-encodes as the HTTP binding', () => {
    expect(headerValue('plain-value:1/2')).toBe('plain-value:1/2')
    expect(headerValue('a b"c%d€')).toBe('a%20b%22c%25d%E2%82%AC')
    const message = httpMessage(
      {
        specversion: '1.0',
        id: 'e1',
        source: 'urn:test',
        type: 'order.placed',
        time: '2026-01-01T00:00:00Z',
        subject: 'Bestellung über 42 €',
        tenantid: 'acme',
        data: { total: 42 },
      },
      'binary',
    )
    expect(message.headers).toMatchObject({
      'ce-id': 'e1',
      'ce-subject': 'Bestellung%20%C3%BCber%2042%20%E2%82%AC',
      'ce-tenantid': 'acme',
      'content-type': 'application/json',
    })
    expect(Object.keys(message.headers).some((h) => h.startsWith('ce_'))).toBe(false)
    expect(JSON.parse(Buffer.from(message.body).toString())).toEqual({ total: 42 })
  })

  test('ssrf - metadata, link-local, loopback and private refused; allowNetworks lets through', async () => {
    const guard = new TargetGuard()
    expect(guard.refusal('169.254.169.254')).toMatch(/metadata/)
    expect(guard.refusal('fe80::1')).toMatch(/link-local/)
    expect(guard.refusal('::ffff:127.0.0.1')).toMatch(/loopback/)
    expect(guard.refusal('192.168.1.10')).toMatch(/private/)
    expect(guard.refusal('93.184.216.34')).toBeUndefined()
    expect(await guard.check('ftp://example.com/')).toMatch(/http or https/)
    expect(await guard.check('http://localhost:1/')).toMatch(/loopback/)
    const allowing = new TargetGuard(['127.0.0.0/8', '::1'])
    expect(allowing.refusal('127.0.0.1')).toBeUndefined()
    expect(await allowing.check('http://127.0.0.1:1/')).toBeUndefined()
    expect(() => new TargetGuard(['not-an-address'])).toThrow(/allowNetworks/)
  })

  test('retry-after - seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000)
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(undefined)).toBeUndefined()
  })
})
