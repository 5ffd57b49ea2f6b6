import { natsTransport } from '@switchyard/adapter-nats'
import { cliBrokerSuite } from './broker-suite.js'
import { NATS_URL, probeNats } from './support.js'

cliBrokerSuite(
  {
    name: 'nats',
    url: NATS_URL,
    transport: () => natsTransport({ servers: NATS_URL }),
    groupless: true,
  },
  probeNats,
)
