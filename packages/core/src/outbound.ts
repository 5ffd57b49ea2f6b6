import { type Codec, partsEncoder } from './codec.js'
import type { EventEnvelope } from './envelope.js'
import type { OutboundMessage, TransportFeatures } from './transport.js'

const EMPTY = new Uint8Array(0)
/** Headers of a message passed by reference: none, so one frozen object serves every message. */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * A message for a transport with `textBodies`: it sends `text`, so `body` is encoded only if
 * read. A class with a prototype getter: an object literal with a getter costs a closure and
 * an accessor pair per message, and that garbage was promoted and set off major collections.
 */
class TextOutbound implements OutboundMessage {
  private bytes: Uint8Array | undefined
  constructor(
    readonly id: string,
    readonly key: string | undefined,
    readonly headers: Record<string, string>,
    readonly text: string,
  ) {}
  get body(): Uint8Array {
    this.bytes ??= Buffer.from(this.text, 'utf8')
    return this.bytes
  }
}

/**
 * How the bus turns an envelope into a transport message, chosen once per bus from the
 * transport's features: the envelope itself for `passByReference`, text left as text for
 * `textBodies`, encoded bytes otherwise. The key is the envelope's `partitionkey`, for every
 * transport and codec alike.
 */
export function outboundEncoder(
  codec: Codec,
  features: TransportFeatures,
): (event: EventEnvelope) => OutboundMessage {
  if (features.passByReference === true) {
    return (event) => ({
      id: event.id,
      key: event.partitionkey,
      headers: NO_HEADERS,
      body: EMPTY,
      event,
    })
  }
  // A transport that sends text gets a body made from text as text alone (see TextOutbound).
  const encode =
    features.textBodies === true ? partsEncoder(codec) : (e: EventEnvelope) => codec.encode(e)
  return (event) => {
    const { id, partitionkey: key } = event
    const { headers, body, text } = encode(event)
    if (body === undefined) return new TextOutbound(id, key, headers, text)
    return text === undefined ? { id, key, headers, body } : { id, key, headers, body, text }
  }
}
