import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateAll } from '../scripts/generate-types.mjs'

// The event data types are derived from the schemas (FromSchema) and checked in; this fails when
// a schema changed without `pnpm --filter @switchyard/schemas generate`.
describe('generated types', () => {
  it('generated types - match the schemas', async () => {
    const files = await generateAll()
    expect(Object.keys(files)).toHaveLength(4)
    for (const [path, content] of Object.entries(files)) {
      expect(readFileSync(path, 'utf8'), path).toBe(content)
    }
  })
})
