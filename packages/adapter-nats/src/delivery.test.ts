import type { Msg } from '@nats-io/transport-node'
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { deliveryHeaders, parseHeaderBlock } from './delivery.js'
import { fromNatsHeaders, toNatsHeaders } from './mapping.js'

const decoder = new TextDecoder()

/** The header block's wire bytes: nats.js's implementation has `encode()`, its interface does not. */
const encoded = (h: MsgHdrs): Uint8Array => (h as unknown as { encode(): Uint8Array }).encode()

/** A message shaped as nats.js's own: the received bytes, the header block's length. */
function received(h: MsgHdrs | undefined, body = '{}'): Msg {
  const head = h === undefined ? new Uint8Array(0) : encoded(h)
  const data = new Uint8Array([...head, ...new TextEncoder().encode(body)])
  return {
    _msg: { hdr: h === undefined ? -1 : head.length },
    _rdata: data,
    get headers() {
      throw new Error('the bytes were there: nats.js should not have been asked')
    },
  } as unknown as Msg
}

describe('delivery - headers read from the received bytes', () => {
  it('delivery headers - the same record and key as nats.js decoding then fromNatsHeaders', () => {
    const cases: Array<[Record<string, string>, string | undefined]> = [
      [
        { ce_id: '1', ce_type: 't', 'content-type': 'application/json', ce_specversion: '1.0' },
        'k',
      ],
      [{ ce_partitionkey: 'k 1', ce_specversion: '1.0', ce_subject: '50% off "q"' }, 'k 1'],
      [{ 'Content-Type': 'text/plain', 'Nats-Msg-Id': 'x', custom: '  padded ' }, 'naïve ☕'],
      [{ ce_id: 'a', ce_source: 'Grüße/日本' }, undefined],
    ]
    for (const [headers, key] of cases) {
      const h = toNatsHeaders(headers, key)
      h.set('Nats-Msg-Id', 'server')
      const expected = fromNatsHeaders(h)
      expect(parseHeaderBlock(decoder.decode(encoded(h)))).toEqual(expected)
      expect(deliveryHeaders(received(h))).toEqual(expected)
    }
  })

  it('delivery headers - values are trimmed as nats.js trims them', () => {
    const block = 'NATS/1.0\r\na:  x \t\r\nb:\u00a0y\u00a0\r\nc:\r\nd: \u00e9 \r\n\r\n'
    expect(parseHeaderBlock(block)?.headers).toEqual({ a: 'x', b: 'y', c: '', d: '\u00e9' })
  })

  it('delivery headers - none at all gives an empty record', () => {
    expect(deliveryHeaders(received(undefined))).toEqual({ headers: {}, key: undefined })
  })

  it('delivery headers - a status line or a repeated name is left to nats.js', () => {
    expect(parseHeaderBlock('NATS/1.0 100 Idle Heartbeat\r\n\r\n')).toBeUndefined()
    const twice = 'NATS/1.0\r\nce-id: 1\r\nce-id: 2\r\n\r\n'
    expect(parseHeaderBlock(twice)).toBeUndefined()
    const h = natsHeaders()
    h.append('ce-id', '1')
    h.append('ce-id', '2')
    const msg = { _msg: { hdr: 5 }, _rdata: new Uint8Array(2), headers: h } as unknown as Msg
    // Bytes that cannot hold the block it claims: nats.js's headers are used.
    expect(deliveryHeaders(msg).headers).toEqual({ 'ce-id': '1' })
  })

  it('delivery headers - a message without the received bytes falls back to msg.headers', () => {
    const h = toNatsHeaders({ ce_id: '7' }, 'k')
    expect(deliveryHeaders({ headers: h } as unknown as Msg)).toEqual(fromNatsHeaders(h))
  })
})
