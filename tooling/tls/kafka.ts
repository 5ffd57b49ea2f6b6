// A single-node KRaft Kafka from the jars tooling/services/kafka.sh fetches, with TLS listeners:
// SSL, SASL_SSL with SCRAM-SHA-256, and an SSL listener that presents an expired certificate.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { TestPki } from './certificates.js'
import { firstReply, ServerProcess, sparePort } from './process.js'

const run = promisify(execFile)
const repo = join(import.meta.dirname, '..', '..')
const CACHE = join(repo, 'tooling', 'kafka', '.cache')

/** The jars kafka.sh fetched: 3.9.2 (its default) when present, else any complete set. */
function kafkaLibs(): { libs: string; logging: string } | undefined {
  const found = existsSync(CACHE)
    ? readdirSync(CACHE).filter(
        (d) => d.startsWith('libs-') && existsSync(join(CACHE, d, '.complete')),
      )
    : []
  const dir = found.includes('libs-3.9.2') ? 'libs-3.9.2' : found.sort().at(-1)
  if (dir === undefined) return undefined
  const logging = dir.startsWith('libs-4.')
    ? `-Dlog4j2.configurationFile=${join(repo, 'tooling', 'kafka', 'log4j2.properties')}`
    : `-Dlog4j.configuration=file:${join(repo, 'tooling', 'kafka', 'log4j.properties')}`
  return { libs: join(CACHE, dir), logging }
}

/** A private Kafka with TLS listeners, the SCRAM user it knows, and how to stop it. */
export interface TlsKafka {
  /** `127.0.0.1:<port>` of the SSL listener (TLS, no authentication). */
  readonly ssl: string
  /** `127.0.0.1:<port>` of the SASL_SSL listener (TLS, then SCRAM-SHA-256). */
  readonly saslSsl: string
  /** `127.0.0.1:<port>` of an SSL listener presenting the PKI's expired certificate. */
  readonly expiredSsl: string
  /** The SCRAM-SHA-256 user the broker was formatted with. */
  readonly username: string
  /** That user's password. */
  readonly password: string
  /** Stops the broker and deletes its data. */
  dispose(): Promise<void>
}

/** A Metadata v4 request (no topics): answered by any Kafka from 1.0 on. */
const METADATA_V4 = Buffer.from('000000130003000400000007000473792d700000000000', 'hex')

/** True when the plain internal listener answers a metadata request listing a broker. */
async function answersMetadata(port: number): Promise<boolean> {
  const reply = await firstReply(port, METADATA_V4)
  return (
    reply !== undefined &&
    reply.length >= 16 &&
    reply.readInt32BE(4) === 7 &&
    reply.readInt32BE(12) >= 1
  )
}

function properties(dir: string, ports: Record<string, number>): string {
  const listeners = `INTERNAL://127.0.0.1:${ports.internal},SSL://127.0.0.1:${ports.ssl},SASL_SSL://127.0.0.1:${ports.sasl},EXPIRED://127.0.0.1:${ports.expired}`
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${ports.controller}
controller.listener.names=CONTROLLER
listeners=${listeners},CONTROLLER://127.0.0.1:${ports.controller}
advertised.listeners=${listeners}
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,EXPIRED:SSL
log.dirs=${dir}/logs
ssl.keystore.type=PEM
ssl.keystore.location=${dir}/server.pem
ssl.client.auth=none
listener.name.expired.ssl.keystore.type=PEM
listener.name.expired.ssl.keystore.location=${dir}/expired.pem
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
controller.quorum.election.timeout.ms=500
controller.quorum.fetch.timeout.ms=1000
group.initial.rebalance.delay.ms=0
num.partitions=1
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
`
}

/**
 * Formats a fresh data directory with a SCRAM-SHA-256 user and starts Kafka with four listeners
 * on spare ports (about ten seconds on this machine).
 * @throws {Error} when java or the Kafka jars are missing (run `bash tooling/services/kafka.sh`
 * once to fetch them) or the broker does not start in time.
 */
export async function startTlsKafka(
  pki: TestPki,
  options: { username?: string; password?: string } = {},
): Promise<TlsKafka> {
  const jars = kafkaLibs()
  if (jars === undefined) {
    throw new Error(
      `no Kafka jars in ${CACHE}: run 'bash tooling/services/kafka.sh' once to fetch them`,
    )
  }
  const { libs, logging } = jars
  const username = options.username ?? 'switchyard'
  const password = options.password ?? 'kafka-scram-secret'
  const [internal, ssl, sasl, expired, controller] = await Promise.all(
    Array.from({ length: 5 }, () => sparePort()),
  )
  const ports = {
    internal: internal!,
    ssl: ssl!,
    sasl: sasl!,
    expired: expired!,
    controller: controller!,
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-kafka-tls-'))
  const config = join(dir, 'server.properties')
  const classpath = ['-cp', `${libs}/*`]
  try {
    // Kafka's PEM key store: the private key and the certificate chain in one file.
    await writeFile(join(dir, 'server.pem'), pki.server.key + pki.server.cert)
    await writeFile(join(dir, 'expired.pem'), pki.expired.key + pki.expired.cert)
    await writeFile(config, properties(dir, ports))
    await run(
      'java',
      [
        ...classpath,
        logging,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        'c3dpdGNoeWFyZC10bHMtMQ',
      ].concat([
        '-c',
        config,
        '--add-scram',
        `SCRAM-SHA-256=[name=${username},password=${password}]`,
      ]),
      { timeout: 60_000 },
    )
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const server = new ServerProcess('kafka (TLS)', 'java', [
    '-Xms96m',
    '-Xmx384m',
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    logging,
    ...classpath,
    'kafka.Kafka',
    config,
  ])
  try {
    await server.waitReady(() => answersMetadata(ports.internal), 90_000)
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const at = (port: number) => `127.0.0.1:${port}`
  return {
    ssl: at(ports.ssl),
    saslSsl: at(ports.sasl),
    expiredSsl: at(ports.expired),
    username,
    password,
    async dispose() {
      await server.stop(20_000)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
