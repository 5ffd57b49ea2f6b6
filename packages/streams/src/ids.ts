import { createHash } from 'node:crypto'

/**
 * A UUID-shaped id from a SHA-1 of the parts (the layout of a version 5 UUID): the same parts
 * always give the same id, which is what lets a consumer's dedup drop a re-emitted result.
 */
export function resultId(...parts: readonly (string | number)[]): string {
  const hash = createHash('sha1').update(parts.join('\u001f')).digest('hex')
  const variant = ((Number.parseInt(hash.slice(16, 17), 16) & 0x3) | 0x8).toString(16)
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-5${hash.slice(13, 16)}-${variant}${hash.slice(17, 20)}-${hash.slice(20, 32)}`
}
