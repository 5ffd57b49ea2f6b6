import type { Transport } from '@switchyard/core/transport'
import type { BinConfig } from './config.js'

type Adapter = { fromEnv(env: NodeJS.ProcessEnv): unknown } & Record<string, unknown>

/**
 * The transport the environment names, from its adapter's `fromEnv()`. The adapters other than
 * memory are optional peer dependencies, loaded only when chosen.
 * @throws {Error} naming the package to install when the adapter is missing.
 */
export async function transportFromEnv(
  kind: BinConfig['transport'],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Transport> {
  if (kind === 'memory') {
    const { memoryTransport } = await import('@switchyard/adapter-memory')
    return memoryTransport()
  }
  const name = `@switchyard/adapter-${kind}`
  let adapter: Adapter
  try {
    adapter = (await import(name)) as Adapter
  } catch (error) {
    throw new Error(
      `The ${kind} transport needs ${name}: npm install ${name} (${(error as Error).message})`,
    )
  }
  const factory = adapter[`${kind}Transport`] as (options: unknown) => Transport
  return factory(adapter.fromEnv(env))
}
