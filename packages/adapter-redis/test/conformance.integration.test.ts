import { transportConformance } from '@switchyard/testkit'
import { afterAll } from 'vitest'
import { redisTransport } from '../src/index.js'
import { deleteKeys, REDIS_URL, redisOrSkip, uniquePrefix } from './helpers.js'

const keyPrefix = uniquePrefix('conformance')
const skip = await redisOrSkip()
afterAll(() => (skip === undefined ? deleteKeys(REDIS_URL, keyPrefix) : undefined))
transportConformance('redis', () => redisTransport({ url: REDIS_URL, keyPrefix }), {
  skip,
  features: redisTransport().features,
  delayToleranceMs: 500,
})
