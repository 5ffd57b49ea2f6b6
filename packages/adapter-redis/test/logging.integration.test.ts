import { createEventBus, type Logger, outcome } from '@switchyard/core'
import { waitUntil } from '@switchyard/testkit'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { redisTransport } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const skip = await redisOrSkip()
const keyPrefix = uniquePrefix('logging')
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))
afterEach(() => void vi.restoreAllMocks())

interface Line {
  level: string
  fields: Record<string, unknown>
  message: string
}

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = []
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
    void lines.push({ level, fields, message: message ?? '' })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

const unneededPassword = REDIS_URL.replace('redis://', 'redis://:unneeded@')

describe.skipIf(skip !== undefined)('redis logging - logs go where the user says', () => {
  it("logging - a password the server does not need is a warning on the bus's logger, not the console", async () => {
    const consoleWarn = vi.spyOn(console, 'warn')
    const logger = recordingLogger()
    const bus = createEventBus({
      transport: redisTransport({ url: unneededPassword, keyPrefix }),
      logger,
    })
    try {
      await bus.connect()
      // A reader connection authenticates too.
      const sub = await bus.subscribe('logging.pw', () => undefined, { group: 'g' })
      await sub.close()
    } finally {
      await bus.close()
    }
    expect(consoleWarn).not.toHaveBeenCalled()
    const warnings = logger.lines.filter((l) => /does not need a password/.test(l.message))
    expect(warnings.length).toBeGreaterThanOrEqual(2)
    expect(warnings.every((l) => l.level === 'warn')).toBe(true)
    expect(JSON.stringify(logger.lines)).not.toMatch(/unneeded/)
  })

  it("logging - a transport's own logger option wins over the bus's", async () => {
    const own = recordingLogger()
    const busLogger = recordingLogger()
    const bus = createEventBus({
      transport: redisTransport({ url: unneededPassword, keyPrefix, logger: own }),
      logger: busLogger,
    })
    await bus.connect()
    await bus.close()
    expect(own.lines.some((l) => /does not need a password/.test(l.message))).toBe(true)
    expect(busLogger.lines).toEqual([])
  })

  it('logging - a dead letter no hook handles is a warning; with onDeadLetter it is the hook only', async () => {
    const logger = recordingLogger()
    const seen: string[] = []
    const quiet = createEventBus({ transport: redisTransport({ keyPrefix }), logger })
    const hooked = createEventBus({
      transport: redisTransport({ keyPrefix }),
      logger,
      hooks: { onDeadLetter: (entry) => void seen.push(entry.event!.id) },
    })
    try {
      const handler = () => outcome.deadLetter('poison')
      await quiet.subscribe('logging.dl', handler, { group: 'quiet' })
      await hooked.subscribe('logging.dl', handler, { group: 'hooked' })
      const sent = await quiet.publish('logging.dl', { type: 'logging.test', source: 't' })
      await waitUntil(() => seen.includes(sent.id) && logger.lines.length > 0, {
        timeoutMs: 5_000,
        message: 'both dead letters',
      })
      const lines = logger.lines.filter((l) => /dead-lettered/.test(l.message))
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({
        level: 'warn',
        fields: { topic: 'logging.dl', group: 'quiet', eventId: sent.id, reason: 'poison' },
      })
    } finally {
      await Promise.all([quiet.close(), hooked.close()])
    }
  })

  it('logging - a subscription error no hook handles is logged at error', async () => {
    const logger = recordingLogger()
    const bus = createEventBus({ transport: redisTransport({ keyPrefix }), logger })
    let release = () => {}
    const started = new Promise<void>((resolve) => {
      release = resolve
    })
    let running = false
    try {
      const sub = await bus.subscribe(
        'logging.slow',
        async () => {
          running = true
          release()
          await new Promise((resolve) => setTimeout(resolve, 1_000))
        },
        { group: 'slow' },
      )
      await bus.publish('logging.slow', { type: 'logging.test', source: 't' })
      await started
      expect(running).toBe(true)
      // A drain cut short: the handler is still running, its event will be redelivered.
      await sub.close({ timeoutMs: 20 })
      const line = logger.lines.find((l) => /still running/.test(l.message))
      expect(line).toMatchObject({
        level: 'error',
        fields: { where: 'logging.slow/slow: close', error: { name: 'Error' } },
      })
      expect(JSON.stringify(line)).not.toMatch(/\bat .*\.ts:\d+/)
    } finally {
      await bus.close()
    }
  })

  it('logging - without a logger option a dead letter is one console.warn line (the default)', async () => {
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const bus = createEventBus({ transport: redisTransport({ keyPrefix }) })
    try {
      await bus.subscribe('logging.default', () => outcome.deadLetter('poison'), { group: 'd' })
      await bus.publish('logging.default', { type: 'logging.test', source: 't' })
      await waitUntil(() => consoleWarn.mock.calls.length > 0, {
        timeoutMs: 5_000,
        message: 'a console warning',
      })
      expect(String(consoleWarn.mock.calls[0]![0])).toMatch(/^\[switchyard\] .*dead-lettered/)
    } finally {
      await bus.close()
    }
  })
})
