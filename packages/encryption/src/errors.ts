import { DecodeError } from '@switchyard/core'

/** Why an event could not be decrypted. */
export type DecryptionFailure = 'unknown-key' | 'tampered' | 'malformed' | 'unencrypted'

/**
 * An event's data could not be decrypted: its key id is unknown to the key provider, the
 * ciphertext or an attribute bound to it was changed, the data is not a ciphertext at all, or
 * (with `requireEncrypted`) the event was not encrypted.
 * A `DecodeError`, so never retryable: the event is dead-lettered with this message as the reason
 * and never reaches the handler.
 */
export class DecryptionError extends DecodeError {
  /** The key id the event names, when it names one. */
  readonly keyId: string | undefined
  /** Which failure it was. */
  readonly kind: DecryptionFailure

  constructor(
    message: string,
    options: { keyId?: string | undefined; kind: DecryptionFailure; cause?: unknown },
  ) {
    super(message, { cause: options.cause })
    this.keyId = options.keyId
    this.kind = options.kind
  }
}
