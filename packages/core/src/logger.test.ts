import { afterEach, describe, expect, it, vi } from 'vitest'
import { loudHooks, resolveLogger } from './bus-log.js'
import type { BusHooks } from './bus-options.js'
import type { DeadLetterEntry } from './dead-letter-entry.js'
import { envReader } from './env.js'
import { ConfigurationError, ConnectionError } from './errors.js'
import { consoleLogger, errorFields, type Logger } from './logger.js'

afterEach(() => void vi.restoreAllMocks())

function recording(): Logger & { lines: [string, Record<string, unknown>, string | undefined][] } {
  const lines: [string, Record<string, unknown>, string | undefined][] = []
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
    void lines.push([level, fields, message])
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

describe('logger', () => {
  it('logger - consoleLogger writes its level and above, one prefixed line each', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined)
    const logger = consoleLogger('warn')
    logger.info({ a: 1 }, 'quiet')
    logger.warn({ topic: 't' }, 'loud')
    expect(info).not.toHaveBeenCalled()
    expect(warn).toHaveBeenCalledWith('[switchyard] loud {"topic":"t"}')
  })

  it('logger - a logger without the four methods is a ConfigurationError naming the field', () => {
    expect(() => resolveLogger({ warn() {} } as never)).toThrow(ConfigurationError)
    expect(() => resolveLogger({ warn() {} } as never)).toThrow(
      /logger .*missing debug, info, error/,
    )
  })

  it('logger - error fields carry name, message and code, never the stack', () => {
    const fields = errorFields(new ConnectionError('down'))
    expect(fields).toEqual({
      error: { name: 'ConnectionError', message: 'down', code: 'ERR_CONNECTION' },
    })
    expect(JSON.stringify(fields)).not.toMatch(/\n\s+at /)
  })

  it('logger - failures no hook handles are logged: dead letters at warn, retryable errors at warn, others at error', () => {
    const logger = recording()
    const hooks = loudHooks<BusHooks>({}, logger)
    hooks.onDeadLetter?.({
      topic: 't',
      group: 'g',
      reason: 'gave up after 3 attempts',
      attempts: 3,
      error: { name: 'Error', message: 'boom' },
      event: undefined,
    } as unknown as DeadLetterEntry)
    hooks.onError?.(new ConnectionError('lost'), 't/g: pull')
    hooks.onError?.(new Error('stuck'), 't/g: close')
    expect(logger.lines.map(([level]) => level)).toEqual(['warn', 'warn', 'error'])
    expect(logger.lines[0]![1]).toMatchObject({ topic: 't', group: 'g', attempts: 3 })
    expect(logger.lines[2]![1]).toMatchObject({ where: 't/g: close' })
  })

  it('logger - a hook the user set handles the failure instead of the log', () => {
    const logger = recording()
    const errors: string[] = []
    const hooks = loudHooks<BusHooks>({ onError: (_e, where) => void errors.push(where) }, logger)
    hooks.onError?.(new Error('x'), 'here')
    expect(errors).toEqual(['here'])
    expect(logger.lines).toEqual([])
  })
})

describe('env', () => {
  it('env - one boolean parser: on/off read like true/false, anything else names the variable', () => {
    const read = envReader({ A: 'on', B: 'OFF', C: 'maybe' })
    expect(read.bool('A')).toBe(true)
    expect(read.bool('B')).toBe(false)
    expect(() => read.bool('C')).toThrow(ConfigurationError)
    expect(() => read.bool('C')).toThrow(/^C must be one of/)
  })
})
