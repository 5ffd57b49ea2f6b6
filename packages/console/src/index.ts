// `@switchyard/console`: where the built console (a static web app) lies, for a server to serve.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Absolute path of the directory that holds the built console (`index.html` and its assets).
 * The same from the built package (`dist/index.js`) and from its sources (`src/index.ts`), since
 * both sit one level below the package root. The gateway serves it at `/console`.
 * @example
 * import { consoleAssetsDir } from '@switchyard/console'
 * await app.register(fastifyStatic, { root: consoleAssetsDir(), prefix: '/console/' })
 */
export function consoleAssetsDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'app')
}

/** True when the console has been built (`dist/app/index.html` exists). */
export function consoleBuilt(): boolean {
  return existsSync(join(consoleAssetsDir(), 'index.html'))
}
