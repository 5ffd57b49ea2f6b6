import { describe, expect, it } from 'vitest'
import {
  composeHandle,
  composePublish,
  type HandleContext,
  type PublishContext,
} from './middleware.js'
import { outcome } from './outcome.js'

describe('middleware', () => {
  it('middleware - publish chain runs outermost first and unwinds in reverse', async () => {
    const log: string[] = []
    const chain = composePublish(
      [
        async (_ctx, next) => {
          log.push('a in')
          await next()
          log.push('a out')
        },
        async (_ctx, next) => {
          log.push('b in')
          await next()
          log.push('b out')
        },
      ],
      async () => void log.push('send'),
    )
    await chain({ topic: 't' } as PublishContext)
    expect(log).toEqual(['a in', 'b in', 'send', 'b out', 'a out'])
  })

  it('middleware - handle chain passes the outcome back and may replace it', async () => {
    const seen: string[] = []
    const chain = composeHandle(
      [
        async (_ctx, next) => {
          const result = await next()
          seen.push(`outer saw ${result.kind}`)
          return result
        },
        async (_ctx, next) => {
          const result = await next()
          seen.push(`inner saw ${result.kind}`)
          return outcome.drop('inner decided')
        },
      ],
      async () => outcome.retry({ delayMs: 5 }),
    )
    const result = await chain({} as HandleContext)
    expect(seen).toEqual(['inner saw retry', 'outer saw drop'])
    expect(result).toEqual({ kind: 'drop', reason: 'inner decided' })
  })

  it('middleware - a publish middleware that skips next drops the event', async () => {
    let sent = false
    const chain = composePublish([async () => undefined], async () => {
      sent = true
    })
    await chain({ topic: 't' } as PublishContext)
    expect(sent).toBe(false)
  })
})
