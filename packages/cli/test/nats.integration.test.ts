import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { natsTransport } from '@switchyard/adapter-nats'
import { cliBrokerSuite } from './broker-suite.js'
import { NATS_URL } from './support.js'

cliBrokerSuite(
  {
    name: 'nats',
    url: NATS_URL,
    transport: () => natsTransport({ servers: NATS_URL }),
    groupless: true,
  },
  async () => {
    const nc = await connect({ servers: NATS_URL, timeout: 2_000, reconnect: false })
    try {
      await jetstreamManager(nc)
    } finally {
      await nc.close()
    }
  },
)
