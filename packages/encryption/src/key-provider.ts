import { createSecretKey, type KeyObject } from 'node:crypto'
import { ConfigurationError } from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'

/** A key with the id that travels beside the ciphertext (the `enckeyid` attribute). */
export interface EncryptionKey {
  /** Names the key in every event it sealed: 1-64 characters from `A-Z a-z 0-9 . _ : -`. */
  readonly id: string
  /** The 32 bytes of an AES-256 key. */
  readonly key: Uint8Array
}

/**
 * Where the middleware gets its keys: one current key that seals new events, and any key by id
 * for opening them. Either method may be async (a KMS, a secrets manager); cache there, since
 * the middleware asks once per event. A method that throws fails that publish, or retries that
 * delivery under the subscription's retry policy: an unreachable KMS is no reason to
 * dead-letter.
 */
export interface KeyProvider {
  /** The key new events are sealed with. */
  current(): EncryptionKey | Promise<EncryptionKey>
  /** The key with this id, or `undefined` when there is none (the event is dead-lettered). */
  get(id: string): Uint8Array | undefined | Promise<Uint8Array | undefined>
}

/** Options of `staticKeys`. */
export interface StaticKeysOptions {
  /** Id of the key that seals new events; must be one of `keys`. */
  current: string
  /** Every key by id: the current one and the older ones events may still be sealed with. */
  keys: Readonly<Record<string, Uint8Array>>
}

const KEY_ID = /^[A-Za-z0-9._:-]{1,64}$/u

/** @throws {ConfigurationError} unless `id` is a usable key id. */
export function checkKeyId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !KEY_ID.test(id)) {
    throw new ConfigurationError(
      `${field} must be 1-64 characters from A-Z a-z 0-9 . _ : - (it travels in an event attribute), got ${JSON.stringify(id)}`,
      { field },
    )
  }
  return id
}

/** @throws {ConfigurationError} unless `key` holds exactly 32 bytes. */
export function checkKey(key: unknown, field: string): Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== 32) {
    const got = key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key
    throw new ConfigurationError(
      `${field} must be 32 bytes (AES-256), got ${got}: generate one with crypto.randomBytes(32) and keep it out of the code (e.g. Buffer.from(process.env.EVENTS_KEY, 'base64'))`,
      { field },
    )
  }
  return key
}

// One KeyObject per key's bytes: building it costs more than the encryption of a small event.
const secretKeys = new WeakMap<Uint8Array, KeyObject>()

/** The AES key object for `key`, made once per key. */
export function secretKey(key: Uint8Array): KeyObject {
  let secret = secretKeys.get(key)
  if (secret === undefined) {
    secret = createSecretKey(key)
    secretKeys.set(key, secret)
  }
  return secret
}

/**
 * A key provider over keys held in memory: seal with `current`, open with any of `keys`. For
 * rotation, add the new key, make it current, and drop the old one once no stored event needs it.
 * @throws {ConfigurationError} when a key is not 32 bytes, an id is malformed, or `current` is
 * not among `keys`.
 * @example
 * const keys = staticKeys({ current: '2026-06', keys: { '2026-06': Buffer.from(process.env.EVENTS_KEY!, 'base64') } })
 */
export function staticKeys(options: StaticKeysOptions): KeyProvider {
  checkKeys(options, ['current', 'keys'], 'staticKeys')
  const current = checkKeyId(options.current, 'staticKeys.current')
  if (options.keys === null || typeof options.keys !== 'object') {
    throw new ConfigurationError('staticKeys.keys must be an object of key id to 32-byte key', {
      field: 'staticKeys.keys',
    })
  }
  const byId = new Map<string, Uint8Array>()
  for (const [id, key] of Object.entries(options.keys)) {
    checkKeyId(id, 'staticKeys.keys')
    // A copy: a caller who zeroes or reuses the buffer later does not change the key.
    byId.set(id, Uint8Array.from(checkKey(key, `staticKeys.keys.${id}`)))
  }
  const currentKey = byId.get(current)
  if (currentKey === undefined) {
    throw new ConfigurationError(
      `staticKeys.current names "${current}", which is not one of keys (${[...byId.keys()].join(', ') || 'none'})`,
      { field: 'staticKeys.current' },
    )
  }
  const sealing: EncryptionKey = Object.freeze({ id: current, key: currentKey })
  return {
    current: () => sealing,
    get: (id) => byId.get(id),
  }
}
