#!/usr/bin/env node
import { Command } from 'commander'
import { mintToken } from '../auth.js'
import { readConfig } from './config.js'
import { serve } from './serve.js'

const program = new Command()
  .name('switchyard-gateway')
  .description(
    'The Switchyard HTTP gateway: publish, streams, schemas, health and metrics over REST.',
  )
  .showHelpAfterError()

program
  .command('serve', { isDefault: true })
  .description('Run the gateway (configured by API_HOST, API_PORT, JWT_*, DATABASE_URL, ...)')
  .action(async () => {
    await serve(await readConfig())
  })

program
  .command('token')
  .description('Mint a token signed with the configured (or generated) secret')
  .option('--tenant <tenant>', 'tenant the token is scoped to (omit for an operator token)')
  .option(
    '--roles <roles>',
    'comma-separated roles: admin, publisher, subscriber (scoped as publisher:orders.*)',
    'publisher,subscriber',
  )
  .option('--subject <subject>', 'the token subject', 'switchyard-gateway-cli')
  .option('--hours <hours>', 'lifetime in hours (default JWT_EXPIRATION_HOURS or 24)')
  .action(async (options: { tenant?: string; roles: string; subject: string; hours?: string }) => {
    const config = await readConfig({ ...process.env, API_HOST: '127.0.0.1' })
    if (config.secret === undefined || !config.algorithm.startsWith('HS')) {
      throw new Error(
        'Tokens can be minted with JWT_SECRET_KEY only; with JWT_JWKS_URL your identity provider issues them',
      )
    }
    const token = await mintToken({
      secret: config.secret,
      tenant: options.tenant,
      roles: options.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
      subject: options.subject,
      expirationHours: options.hours === undefined ? config.expirationHours : Number(options.hours),
      tenantClaim: config.tenantClaim,
      algorithm: config.algorithm,
    })
    process.stdout.write(`${token}\n`)
  })

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`switchyard-gateway: ${error.message}\n`)
  process.exit(1)
})
