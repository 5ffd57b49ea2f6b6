import {
  ConfigurationError,
  type EventEnvelope,
  type HandleContext,
  type Middleware,
  type Outcome,
  outcome,
} from '@switchyard/core'
import { checkKeys } from '@switchyard/core/transport'
import { DecryptionError } from './errors.js'
import { checkKeyId, type EncryptionKey, type KeyProvider } from './key-provider.js'
import { isSealed, KEY_ID_ATTRIBUTE, open, seal } from './seal.js'

/** Options of `encryption`. */
export interface EncryptionOptions {
  /** Seal the data of published events. @default true */
  publish?: boolean
  /** Open sealed events before handlers run; undecryptable ones are dead-lettered. @default true */
  consume?: boolean
  /**
   * Dead-letter events that arrive unsealed (no `enckeyid`), except Switchyard's own
   * (`io.switchyard.*`: dead-letter records, which carry the sealed original inside). Leave it off
   * while producers are being moved to encryption. @default false
   */
  requireEncrypted?: boolean
}

/** Switchyard's own events (dead-letter records) are never sealed by this middleware. */
const OWN_TYPES = 'io.switchyard.'

function checkProvider(keys: KeyProvider): KeyProvider {
  if (
    keys === null ||
    typeof keys !== 'object' ||
    typeof keys.current !== 'function' ||
    typeof keys.get !== 'function'
  ) {
    throw new ConfigurationError(
      'encryption needs a key provider with current() and get(id): use staticKeys({ current, keys }) or your own',
      { field: 'encryption.keys' },
    )
  }
  return keys
}

function checkFlag(value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  throw new ConfigurationError(`${field} must be true or false`, { field })
}

/**
 * Hands the opened event to the rest of the chain and the handler. Core calls the handler with
 * the context's `event` as it stands when the chain reaches the end, and builds dead-letter
 * entries from the event as it arrived, so dead letters keep the sealed original.
 */
function replaceEvent(ctx: HandleContext, event: EventEnvelope): void {
  ;(ctx as { event: EventEnvelope }).event = event
}

/**
 * Encryption at rest: seals the `data` of every published event with AES-256-GCM under the key
 * provider's current key, and opens it again before handlers run with whichever key the event's
 * `enckeyid` attribute names. Attributes stay readable, so routing, type and tenant filters,
 * partition keys and tracing work as before; the id, source, type and tenant are bound to the
 * ciphertext. An event that cannot be opened (unknown key id, changed ciphertext or bound
 * attribute) is dead-lettered at once with a `DecryptionError` naming why, never handed to the
 * handler. Node's `crypto` only.
 *
 * Order: middleware listed after this one sees sealed data on publish and opened data on
 * consume. To validate plaintext on both sides, use two instances around the validation:
 * `[encryption(keys, { publish: false }), validation, encryption(keys, { consume: false })]`.
 * @throws {ConfigurationError} for a missing key provider or unknown options.
 * @example
 * const bus = createEventBus({ transport, middleware: [encryption(staticKeys({ current: 'k1', keys: { k1 } }))] })
 */
export function encryption(keys: KeyProvider, options: EncryptionOptions = {}): Middleware {
  const provider = checkProvider(keys)
  checkKeys(options, ['publish', 'consume', 'requireEncrypted'], 'encryption')
  const publish = checkFlag(options.publish, 'encryption.publish') ?? true
  const consume = checkFlag(options.consume, 'encryption.consume') ?? true
  const requireEncrypted = checkFlag(options.requireEncrypted, 'encryption.requireEncrypted')

  const sealWith = (event: EventEnvelope, key: EncryptionKey): EventEnvelope => {
    checkKeyId(key?.id, 'encryption: current().id of the key provider')
    return seal(event, key)
  }

  const middleware: { -readonly [K in keyof Middleware]: Middleware[K] } = { name: 'encryption' }
  if (publish) {
    middleware.publish = async (ctx, next) => {
      const event = ctx.event
      // Nothing to hide, or sealed already (a sealed event handed back to publish as it is).
      if (event.data === undefined || isSealed(event) || event.type.startsWith(OWN_TYPES)) {
        return next()
      }
      const key = provider.current()
      ctx.event = sealWith(event, key instanceof Promise ? await key : key)
      return next()
    }
  }
  if (consume) {
    middleware.handle = async (ctx, next): Promise<Outcome> => {
      const event = ctx.event
      const keyId = event.extensions?.[KEY_ID_ATTRIBUTE]
      if (keyId === undefined) {
        if (requireEncrypted === true && !event.type.startsWith(OWN_TYPES)) {
          const error = new DecryptionError(
            `event is not encrypted (no ${KEY_ID_ATTRIBUTE} attribute) and requireEncrypted is on`,
            { kind: 'unencrypted' },
          )
          return outcome.deadLetter(error.message, error)
        }
        return next()
      }
      const pending = provider.get(keyId)
      const key = pending instanceof Promise ? await pending : pending
      if (key === undefined) {
        const error = new DecryptionError(
          `could not decrypt: key id "${keyId}" is unknown to the key provider (a key retired too early, or a producer with a key this consumer was never given)`,
          { keyId, kind: 'unknown-key' },
        )
        return outcome.deadLetter(error.message, error)
      }
      let opened: EventEnvelope
      try {
        opened = open(event, keyId, key)
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error
        return outcome.deadLetter(error.message, error)
      }
      replaceEvent(ctx, opened)
      return next()
    }
  }
  return middleware
}
