import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto'
import { ConfigurationError, type EventEnvelope, isJsonContentType } from '@switchyard/core'
import { DecryptionError } from './errors.js'
import { checkKey, type EncryptionKey, secretKey } from './key-provider.js'

/** Extension attribute naming the key an event's data was sealed with. */
export const KEY_ID_ATTRIBUTE = 'enckeyid'
/** Extension attribute keeping the `datacontenttype` the data had before it was sealed. */
export const CONTENT_TYPE_ATTRIBUTE = 'enccontenttype'
/** What a sealed event's `datacontenttype` says: the body is bytes only a key holder can read. */
export const SEALED_CONTENT_TYPE = 'application/octet-stream'

const VERSION = 1
/** How the data was turned into bytes: JSON text, raw bytes, or a plain string. */
const FORM_JSON = 0
const FORM_BYTES = 1
const FORM_TEXT = 2
const IV_BYTES = 12
const TAG_BYTES = 16
/** Version, form, IV; then the ciphertext and the GCM tag. */
const HEADER_BYTES = 2 + IV_BYTES

// Random IVs drawn from a pool filled 512 at a time: one call for random bytes per event cost
// more than the encryption itself. Every IV is still fresh randomness, never reused.
const IV_POOL = Buffer.alloc(IV_BYTES * 512)
let ivOffset = IV_POOL.length

/** Copies 12 fresh random bytes into `target` at `at`. */
function nextIv(target: Buffer, at: number): void {
  if (ivOffset === IV_POOL.length) {
    randomFillSync(IV_POOL)
    ivOffset = 0
  }
  IV_POOL.copy(target, at, ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
}

/**
 * Additional data the GCM tag covers besides the ciphertext: the header and the attributes that
 * say which event this is. Ciphertext moved onto another event (another id, type, source or
 * tenant) or relabelled (key id, content type) fails to open.
 */
function boundAttributes(
  header: Uint8Array,
  event: EventEnvelope,
  keyId: string,
  contentType: string | undefined,
): Buffer {
  const attributes = JSON.stringify([
    keyId,
    contentType ?? null,
    event.id,
    event.source,
    event.type,
    event.tenantid ?? null,
  ])
  return Buffer.concat([header, Buffer.from(attributes, 'utf8')])
}

/** The data as bytes and how to turn them back. */
function plaintextOf(event: EventEnvelope): { form: number; bytes: Buffer } {
  const data = event.data
  if (data instanceof Uint8Array) {
    return { form: FORM_BYTES, bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) }
  }
  if (typeof data === 'string' && !isJsonContentType(event.datacontenttype)) {
    return { form: FORM_TEXT, bytes: Buffer.from(data, 'utf8') }
  }
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (cause) {
    throw new ConfigurationError(
      `event.data cannot be serialised to JSON: ${(cause as Error).message}`,
      {
        field: 'data',
        cause,
      },
    )
  }
  if (text === undefined) {
    throw new ConfigurationError(`event.data of type ${typeof data} cannot be serialised to JSON`, {
      field: 'data',
    })
  }
  return { form: FORM_JSON, bytes: Buffer.from(text, 'utf8') }
}

/** True when the event carries sealed data (a key id attribute). */
export function isSealed(event: EventEnvelope): boolean {
  return event.extensions?.[KEY_ID_ATTRIBUTE] !== undefined
}

/**
 * A copy of `event` whose `data` is AES-256-GCM ciphertext under `key`, with the key id and the
 * original content type in extension attributes. Every other attribute is left as it was.
 * @throws {ConfigurationError} when the key is not 32 bytes or the data cannot be serialised.
 */
export function seal(event: EventEnvelope, key: EncryptionKey): EventEnvelope {
  checkKey(key.key, `key "${key.id}"`)
  const { form, bytes } = plaintextOf(event)
  const header = Buffer.allocUnsafe(HEADER_BYTES)
  header[0] = VERSION
  header[1] = form
  nextIv(header, 2)
  const contentType = event.datacontenttype
  const cipher = createCipheriv('aes-256-gcm', secretKey(key.key), header.subarray(2))
  cipher.setAAD(boundAttributes(header, event, key.id, contentType))
  const body = Buffer.concat([header, cipher.update(bytes), cipher.final(), cipher.getAuthTag()])
  const extensions: Record<string, string> = { ...event.extensions, [KEY_ID_ATTRIBUTE]: key.id }
  if (contentType !== undefined) extensions[CONTENT_TYPE_ATTRIBUTE] = contentType
  return { ...event, datacontenttype: SEALED_CONTENT_TYPE, data: body, extensions }
}

/** The sealed bytes of an event's data, whatever form the transport handed them in. */
function sealedBytes(event: EventEnvelope, keyId: string): Buffer {
  const data = event.data
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  throw new DecryptionError(
    `could not decrypt: the data of an event with key id "${keyId}" is ${data === undefined ? 'missing' : `a ${typeof data}, not bytes`} (was its datacontenttype changed from ${SEALED_CONTENT_TYPE}?)`,
    { keyId, kind: 'malformed' },
  )
}

/**
 * The event as it was before `seal`: data decrypted and restored to its form, the original
 * content type back, the two encryption attributes gone. `key` is the key its id names.
 * @throws {DecryptionError} when the bytes are malformed or fail authentication.
 * @throws {ConfigurationError} when the provider's key is not 32 bytes.
 */
export function open(event: EventEnvelope, keyId: string, key: Uint8Array): EventEnvelope {
  checkKey(key, `the key provider's key "${keyId}"`)
  const bytes = sealedBytes(event, keyId)
  if (
    bytes.byteLength < HEADER_BYTES + TAG_BYTES ||
    bytes[0] !== VERSION ||
    bytes[1]! > FORM_TEXT
  ) {
    throw new DecryptionError(
      `could not decrypt: the data is not a version ${VERSION} ciphertext (${bytes.byteLength} bytes, first byte ${bytes[0] ?? 'none'})`,
      { keyId, kind: 'malformed' },
    )
  }
  const {
    [KEY_ID_ATTRIBUTE]: _id,
    [CONTENT_TYPE_ATTRIBUTE]: contentType,
    ...rest
  } = event.extensions ?? {}
  const header = bytes.subarray(0, HEADER_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', secretKey(key), header.subarray(2))
  decipher.setAAD(boundAttributes(header, event, keyId, contentType))
  decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES))
  let plain: Buffer
  try {
    plain = Buffer.concat([
      decipher.update(bytes.subarray(HEADER_BYTES, bytes.byteLength - TAG_BYTES)),
      decipher.final(),
    ])
  } catch (cause) {
    throw new DecryptionError(
      `could not decrypt: authentication failed under key id "${keyId}": the data or an attribute it is bound to (id, source, type, tenantid, enccontenttype) was changed, or this is not the key that sealed it`,
      { keyId, kind: 'tampered', cause },
    )
  }
  const opened: EventEnvelope = { ...event, data: restore(bytes[1]!, plain, keyId) }
  if (contentType === undefined) delete opened.datacontenttype
  else opened.datacontenttype = contentType
  if (Object.keys(rest).length === 0) delete opened.extensions
  else opened.extensions = rest
  return opened
}

function restore(form: number, plain: Buffer, keyId: string): unknown {
  if (form === FORM_BYTES) return plain
  const text = plain.toString('utf8')
  if (form === FORM_TEXT) return text
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new DecryptionError(
      'could not decrypt: the decrypted data is not the JSON it was sealed as',
      {
        keyId,
        kind: 'malformed',
        cause,
      },
    )
  }
}
