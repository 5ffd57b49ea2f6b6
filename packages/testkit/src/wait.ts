import { createServer } from 'node:net'

/**
 * Waits until `condition` returns true, polling every few milliseconds; fails with `message` and
 * the last value of `describe()` once `timeoutMs` passes. Use it instead of sleeping in tests.
 * @throws {Error} when the deadline passes first.
 * @example await waitUntil(() => received.length === 100, { timeoutMs: 5_000, message: 'all 100 arrive' })
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  options: {
    timeoutMs?: number
    intervalMs?: number
    message?: string
    describe?: () => string
  } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const intervalMs = options.intervalMs ?? 5
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline) {
      const detail = options.describe === undefined ? '' : ` (${options.describe()})`
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${options.message ?? 'condition'}${detail}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Probes a service before broker tests. Resolves `undefined` when it answers, or a reason to skip
 * (printed, so skips are visible). Under `CI` a missing service is an error, never a skip.
 * @throws {Error} under CI when the probe fails.
 * @example
 * const skip = await serviceOrSkip('Redis', () => ping(url))
 * describe.skipIf(skip)('redis', () => { ... })
 */
export async function serviceOrSkip(
  name: string,
  probe: () => Promise<unknown>,
  options: { timeoutMs?: number } = {},
): Promise<string | undefined> {
  const timeoutMs = options.timeoutMs ?? 5_000
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return undefined
  } catch (error) {
    const reason = `${name} is not reachable: ${(error as Error).message}`
    if (process.env.CI) throw new Error(`${reason}. CI is set, so a missing service fails the run.`)
    console.warn(`[switchyard] skipping ${name} tests: ${reason}`)
    return reason
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A loopback TCP port nothing listens on right now, for a test's own server (a private broker
 * that a fault test stops and restarts without touching the shared one).
 * @example const port = await sparePort(); spawn('redis-server', ['--port', String(port)])
 */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
}
