import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster } from 'ioredis'

const run = promisify(execFile)
const SCRIPT = new URL('../../../tooling/cluster/redis.sh', import.meta.url).pathname

// No import of @switchyard/testkit here: fixtures/cluster-consumer.ts, a plain Node process,
// takes clusterClient from this file, and the testkit's main entry loads vitest.

/** Throws when redis-server or redis-cli is missing (for `serviceOrSkip`). */
export async function hasClusterTools(): Promise<void> {
  for (const binary of ['redis-server', 'redis-cli']) {
    if (spawnSync(binary, ['--version']).status !== 0)
      throw new Error(`${binary} is not on the PATH`)
  }
}

/**
 * A private Redis Cluster of three masters and three replicas on spare loopback ports, run by
 * tooling/cluster/redis.sh in a state directory of its own: nodes can be SIGKILLed and brought
 * back, or the whole cluster stopped and started on its append-only files.
 */
export class RedisCluster {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** The six nodes, node 1 first. */
    readonly nodes: Array<{ host: string; port: number }>,
  ) {}

  /**
   * Creates the cluster and waits until every slot is served and every replica in sync.
   * `nodeTimeoutMs` is how long a master may stay silent before its replica takes over: short
   * for a failover test, Redis's own 15 s where none is wanted, so that a node slowed down by a
   * busy machine is not failed over.
   */
  static async start(nodeTimeoutMs = 15_000): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'sy-redis-cluster-'))
    const env = {
      ...process.env,
      CLUSTER_DIR: dir,
      CLUSTER_WAIT_SECONDS: '150',
      REDIS_NODE_TIMEOUT_MS: String(nodeTimeoutMs),
    }
    const cluster = new RedisCluster(env, [])
    // A start that fails half-way leaves no node behind.
    const addresses = await cluster.script('start').catch(async (error: unknown) => {
      await cluster.destroy().catch(() => undefined)
      throw error
    })
    for (const address of addresses.split(',')) {
      const [host = '127.0.0.1', port = ''] = address.split(':')
      cluster.nodes.push({ host, port: Number(port) })
    }
    return cluster
  }

  private async script(...args: string[]): Promise<string> {
    const { stdout } = await run('bash', [SCRIPT, ...args], { env: this.env, timeout: 200_000 })
    return stdout.trim()
  }

  /** SIGKILLs node `n` (1-6). */
  async kill(n: number): Promise<void> {
    await this.script('kill', String(n))
  }

  /** Starts every node that is down and waits until the cluster is whole again. */
  async start(): Promise<void> {
    await this.script('start')
  }

  /** Stops every node cleanly (SIGTERM) and starts them again on their data. */
  async restart(): Promise<void> {
    await this.script('stop')
    await this.script('start')
  }

  /** Stops every node and removes the state directory. */
  async destroy(): Promise<void> {
    await this.script('destroy')
  }
}

/**
 * An ioredis Cluster client for a cluster whose nodes come and go: it looks up the slot map
 * again soon after a node is lost, and waits out a failover instead of failing the command.
 */
export function clusterClient(nodes: Array<{ host: string; port: number }>): Cluster {
  return new Cluster(nodes, {
    slotsRefreshTimeout: 2_000,
    slotsRefreshInterval: 1_000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    retryDelayOnMoved: 0,
    maxRedirections: 32,
    redisOptions: { connectTimeout: 2_000 },
  })
}
