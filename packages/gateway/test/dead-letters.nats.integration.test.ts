import { natsTransport } from '@switchyard/adapter-nats'
import { deadLetterSuite } from './dead-letters-suite.js'
import { transportOrSkip } from './support.js'

const NATS_URL = process.env.SWITCHYARD_NATS_URL ?? 'nats://127.0.0.1:4222'
const prefix = `SYDL_${Math.random().toString(36).slice(2, 8)}_`
// Streams of this run drop their messages after ten minutes; nothing else reads them.
const make = () =>
  natsTransport({
    servers: NATS_URL,
    autoStreams: { prefix, maxAgeMs: 600_000 },
    connectTimeoutMs: 3_000,
  })

deadLetterSuite('nats', { make, skip: () => transportOrSkip('NATS', make) })
