import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { consoleAssetsDir, consoleBuilt } from './index.js'

test('assets - consoleAssetsDir points at the built app (dist/app/index.html)', () => {
  expect(consoleAssetsDir()).toMatch(/packages[/\\]console[/\\]dist[/\\]app$/)
  expect(consoleBuilt()).toBe(existsSync(join(consoleAssetsDir(), 'index.html')))
})
