// Throwaway certificates and private TLS brokers for the adapters' TLS tests. Node builtins
// and the openssl, redis-server, nats-server, java and PostgreSQL commands only: importable from
// any package's tests by a relative path.
export type { KeyPair, TestPki } from './certificates.js'
export { createTestPki } from './certificates.js'
export type { TlsKafka } from './kafka.js'
export { startTlsKafka } from './kafka.js'
export type { TlsNats } from './nats.js'
export { startTlsNats } from './nats.js'
export type { TlsPostgres } from './postgres.js'
export { postgresBinaries, startTlsPostgres } from './postgres.js'
export type { TlsRedis } from './redis.js'
export { startTlsRedis } from './redis.js'
