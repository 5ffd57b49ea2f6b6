// `@switchyard/encryption`: encryption at rest for event data, as bus middleware.
export type { EncryptionOptions } from './encryption.js'
export { encryption } from './encryption.js'
export type { DecryptionFailure } from './errors.js'
export { DecryptionError } from './errors.js'
export type { EncryptionKey, KeyProvider, StaticKeysOptions } from './key-provider.js'
export { staticKeys } from './key-provider.js'
export { CONTENT_TYPE_ATTRIBUTE, KEY_ID_ATTRIBUTE, SEALED_CONTENT_TYPE } from './seal.js'
