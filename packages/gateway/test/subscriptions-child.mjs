// A gateway process for the subscription restart test: the built package over Redis, its state
// in PostgreSQL. Prints {"url"} once listening; the test SIGKILLs it and starts another.
import { redisTransport } from '@switchyard/adapter-redis'
import { createEventBus } from '@switchyard/core'
import { createGateway, openStateStore } from '../dist/index.js'

const env = process.env
// A short visibility timeout: what the killed process held is reclaimed by the next one soon.
const transport = redisTransport({
  url: env.REDIS_URL,
  keyPrefix: env.KEY_PREFIX,
  consumerTimeoutMs: 2_000,
})
const bus = createEventBus({ transport, source: 'gateway-child' })
const state = await openStateStore({ databaseUrl: env.DATABASE_URL, tablePrefix: env.TABLE_PREFIX })
const app = await createGateway({
  bus,
  auth: { secret: env.JWT_SECRET },
  state,
  rateLimit: false,
  subscriptions: { webhooks: { allowNetworks: ['127.0.0.1'] }, syncIntervalMs: 200 },
})
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${JSON.stringify({ url })}\n`)
