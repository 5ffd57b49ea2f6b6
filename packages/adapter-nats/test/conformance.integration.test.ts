import { serviceOrSkip, transportConformance } from '@switchyard/testkit'
import { afterAll } from 'vitest'
import { natsTransport } from '../src/index.js'
import { deleteStreams, NATS_URL, probe, runPrefix } from './nats-server.js'

const prefix = runPrefix('conf')
const skip = await serviceOrSkip('NATS', () => probe(NATS_URL))
const features = natsTransport().features

transportConformance('nats', () => natsTransport({ servers: NATS_URL, autoStreams: { prefix } }), {
  skip,
  features,
  delayToleranceMs: 250,
})

afterAll(async () => {
  if (skip === undefined) await deleteStreams(NATS_URL, prefix)
})
