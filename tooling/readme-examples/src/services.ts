import { connect } from 'node:net'

/** A broker or database the examples talk to, found by what a block imports or calls. */
export interface Service {
  name: string
  /** The variable the examples read its address from, and the address CI's services answer on. */
  env: string
  address: string
  uses: RegExp
}

export const SERVICES: readonly Service[] = [
  {
    name: 'Redis',
    env: 'REDIS_URL',
    address: 'redis://127.0.0.1:6379',
    uses: /@switchyard\/adapter-redis|'ioredis'/,
  },
  {
    name: 'NATS',
    env: 'NATS_URL',
    address: 'nats://127.0.0.1:4222',
    uses: /@switchyard\/adapter-nats|'@nats-io\/|'nats'/,
  },
  {
    name: 'Kafka',
    env: 'KAFKA_BOOTSTRAP_SERVERS',
    address: '127.0.0.1:9092',
    uses: /@switchyard\/adapter-kafka|'kafkajs'/,
  },
  {
    name: 'PostgreSQL',
    env: 'DATABASE_URL',
    address: 'postgres://postgres@127.0.0.1:5432/switchyard',
    uses: /from 'pg'|pgDriver\(/,
  },
]

/** The services a block needs. */
export function servicesOf(code: string): Service[] {
  return SERVICES.filter((service) => service.uses.test(code))
}

/** The address of a service: its variable when set, else the one CI's services answer on. */
export function addressOf(service: Service, env: NodeJS.ProcessEnv = process.env): string {
  return env[service.env] || service.address
}

const probes = new Map<string, Promise<string | undefined>>()

/** Undefined when the service accepts a TCP connection, else why not. Asked once per service. */
export function unreachable(service: Service): Promise<string | undefined> {
  let probe = probes.get(service.name)
  if (!probe) {
    probe = probeTcp(addressOf(service))
    probes.set(service.name, probe)
  }
  return probe
}

function probeTcp(address: string): Promise<string | undefined> {
  const first = address.split(',')[0]!
  const url = new URL(first.includes('://') ? first : `tcp://${first}`)
  const host = url.hostname
  const port = Number(url.port)
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (reason: string | undefined): void => {
      socket.destroy()
      resolve(reason)
    }
    socket.setTimeout(2_000, () => done(`no answer on ${host}:${port} within 2 s`))
    socket.once('connect', () => done(undefined))
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(`${error.code ?? error.message} on ${host}:${port}`),
    )
  })
}
