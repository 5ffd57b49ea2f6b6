import { describe, expect, it } from 'vitest'
import { type RedisStoreClient, redisStore } from '../src/index.js'

/** A client that records the calls and answers EVALSHA like a server without the script. */
function client(evalsha: 'noscript' | 'error' | undefined) {
  const calls: string[] = []
  const c: RedisStoreClient = {
    hmget: async () => [],
    zmscore: async () => [],
    hvals: async () => [],
    eval: async () => {
      calls.push('eval')
      return 1
    },
  }
  if (evalsha !== undefined) {
    c.evalsha = async () => {
      calls.push('evalsha')
      throw new Error(evalsha === 'noscript' ? 'NOSCRIPT No matching script.' : 'ERR other')
    }
  }
  return { c, calls }
}

const change = { entries: [], outbox: [], sent: [], seen: ['a'], dedupMs: 1_000 }

describe('redisStore commit', () => {
  it('calls the script by its hash and sends it whole when the server does not have it', async () => {
    const { c, calls } = client('noscript')
    expect(await redisStore({ client: c }).commit('s', change)).toBe(true)
    expect(calls).toEqual(['evalsha', 'eval'])
  })

  it('does not hide another error of EVALSHA', async () => {
    const { c, calls } = client('error')
    await expect(redisStore({ client: c }).commit('s', change)).rejects.toThrow('ERR other')
    expect(calls).toEqual(['evalsha'])
  })

  it('uses EVAL with a client that has no EVALSHA', async () => {
    const { c, calls } = client(undefined)
    expect(await redisStore({ client: c }).commit('s', change)).toBe(true)
    expect(calls).toEqual(['eval'])
  })
})
