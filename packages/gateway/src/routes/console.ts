import fastifyStatic from '@fastify/static'
import { consoleAssetsDir, consoleBuilt } from '@switchyard/console'
import type { FastifyPluginAsync } from 'fastify'
import { HttpProblem } from '../problem.js'

// The page holds no data: it asks for a token and calls the API with it, so it is public like
// /docs. Everything it shows comes from routes that check the token's tenant and roles.
const PUBLIC = { public: true }
const HIDDEN = { hide: true }
// Scripts and styles from the app's own files only; API and WebSocket calls to this origin only.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/**
 * `/console`: the operator console's static files from `@switchyard/console`, served with
 * `@fastify/static` (ETag, ranges, no directory listing). Paths outside the app are 404.
 */
export const consoleRoutes: FastifyPluginAsync = async (app) => {
  const root = consoleAssetsDir()
  const built = consoleBuilt()
  await app.register(fastifyStatic, { root, serve: false })
  app.get('/console', { config: PUBLIC, schema: HIDDEN }, async (_request, reply) =>
    reply.redirect('console/'),
  )
  app.get('/console/*', { config: PUBLIC, schema: HIDDEN }, async (request, reply) => {
    if (!built) throw new HttpProblem(404, 'The console is not built (@switchyard/console)')
    const path = (request.params as { '*': string })['*']
    const file = path === '' ? 'index.html' : path
    // index.html names hashed assets: it must be fetched again, the assets may be kept.
    const immutable = file.startsWith('assets/')
    if (file === 'index.html') reply.header('content-security-policy', CSP)
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .sendFile(file, {
        cacheControl: true,
        maxAge: immutable ? 31_536_000_000 : 0,
        immutable,
        dotfiles: 'deny',
      })
  })
}
