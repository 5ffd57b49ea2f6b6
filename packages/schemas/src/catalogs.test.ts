import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { anumateCatalog, getSchemaRegistry as anumateRegistry } from './anumate/index.js'
import * as approvals from './anumate/schemas-approvals.js'
import * as orchestrator from './anumate/schemas-orchestrator.js'
import * as policy from './anumate/schemas-policy.js'
import * as capsules from './anumate/schemas-registry.js'
import { toAsyncApi } from './asyncapi.js'
import { type Catalog, JSON_SCHEMA_DIALECT, schemaId } from './catalog.js'
import { martyCatalog, getSchemaRegistry as martyRegistry } from './marty/index.js'
import * as audit from './marty/schemas-audit.js'
import * as domain from './marty/schemas-domain.js'
import * as notification from './marty/schemas-notification.js'
import { oliveCatalog, getSchemaRegistry as oliveRegistry } from './olive/index.js'
import * as operations from './olive/schemas-operations.js'
import * as people from './olive/schemas-people.js'
import type { ReadonlySchemaRegistry } from './registry.js'

const catalogs: [string, Catalog, ReadonlySchemaRegistry][] = [
  ['olive', oliveCatalog, oliveRegistry()],
  ['anumate', anumateCatalog, anumateRegistry()],
  ['marty', martyCatalog, martyRegistry()],
]
const modules: Record<string, object[]> = {
  olive: [people, operations],
  anumate: [capsules, policy, orchestrator, approvals],
  marty: [audit, notification, domain],
}
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe.each(catalogs)('catalogs - %s', (name, catalog, registry) => {
  it('catalogs - lists every spec of its schema modules (the generated types cover the same set)', () => {
    const exported = modules[name]!.flatMap((m) => Object.values(m) as { type: string }[]).map(
      (s) => s.type,
    )
    expect(catalog.events.map((e) => e.type).sort()).toEqual(exported.sort())
  })

  it('catalogs - the README lists every event type', () => {
    for (const def of catalog.events) expect(readme, def.type).toContain(`\`${def.type}\``)
  })

  it('catalogs - every schema is a self-describing 2020-12 document', () => {
    const ids = new Set<string>()
    for (const def of catalog.events) {
      expect(def.schema.$schema).toBe(JSON_SCHEMA_DIALECT)
      expect(def.schema.$id).toBe(schemaId(name, def.type, def.version))
      expect(def.id).toBe(def.schema.$id)
      ids.add(def.id)
    }
    expect(ids.size).toBe(catalog.events.length)
  })

  it('catalogs - payloads are closed and the key property is required', () => {
    for (const def of catalog.events) {
      const { properties, required } = def.schema as { properties: object; required: string[] }
      expect(def.schema.additionalProperties, def.type).toBe(false)
      for (const field of required)
        expect(Object.keys(properties), `${def.type}.${field}`).toContain(field)
      if (def.key !== undefined && !['notification_id'].includes(def.key))
        expect(required, def.type).toContain(def.key)
    }
  })

  it('catalogs - every schema compiles', () => {
    expect(registry.precompile()).toBe(catalog.events.length)
  })

  it('catalogs - every example is valid', () => {
    for (const def of catalog.events) {
      const examples = def.schema.examples as unknown[]
      expect(examples.length, def.type).toBeGreaterThan(0)
      for (const example of examples) {
        const type = def.type.replaceAll('*', 'example')
        expect(registry.check(type, example, { version: def.version }), def.type).toEqual({
          ok: true,
          value: example,
        })
      }
    }
  })
})

interface Diagnostic {
  severity: number
  code: string
  message: string
  path: string
}

// The parser runs in its own Node process (its ESM build does not load under vitest's resolver),
// once for all documents: loading it takes seconds.
function parseAsyncApi(documents: unknown[]): Diagnostic[][] {
  const script = [
    "import { Parser } from '@asyncapi/parser'",
    "let input = ''",
    'for await (const chunk of process.stdin) input += chunk',
    'const parser = new Parser()',
    'const out = []',
    'for (const document of JSON.parse(input)) {',
    '  const { diagnostics } = await parser.parse(JSON.stringify(document))',
    "  out.push(diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, path: d.path.join('/') })))",
    '}',
    'process.stdout.write(JSON.stringify(out))',
  ].join('\n')
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(documents),
    encoding: 'utf8',
    // Resolve the parser from this package, whichever folder vitest was started in.
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  })
  return JSON.parse(out)
}

describe('catalogs - AsyncAPI', () => {
  const servers = {
    local: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'Local Kafka' },
  }
  const documents = catalogs.map(([, catalog]) => toAsyncApi(catalog, { servers }))
  // A copy with a broken payload shows the parser check can fail.
  const broken = structuredClone(documents[0]!)
  const channel = broken.channels['employees.events'] as {
    messages: Record<string, { payload: { schema: object } }>
  }
  channel.messages['employee.created.v1']!.payload.schema = { type: 'objekt' }
  let diagnostics: Diagnostic[][] = []
  beforeAll(() => {
    diagnostics = parseAsyncApi([...documents, broken])
  })

  it.each(catalogs.map(([name], i) => [name, i] as const))(
    'catalogs - the %s AsyncAPI 3.0 document parses without errors or warnings',
    (_, i) => {
      expect(diagnostics[i]!.filter((d) => d.severity <= 1)).toEqual([])
      const document = documents[i]!
      expect(document.asyncapi).toBe('3.0.0')
      const messages = Object.values(document.channels).flatMap((c) =>
        Object.keys((c as { messages: object }).messages),
      )
      expect(messages).toHaveLength(catalogs[i]![1].events.length)
    },
  )

  it('catalogs - the parser reports a broken payload (the check can fail)', () => {
    expect(diagnostics[documents.length]!.some((d) => d.severity === 0)).toBe(true)
  })

  it('catalogs - AsyncAPI maps topics, headers, parameters and 2020-12 keywords', () => {
    const olive = toAsyncApi(oliveCatalog, { servers, action: 'receive' })
    const channel = olive.channels['assets.events'] as {
      address: string
      messages: Record<string, Record<string, never>>
    }
    expect(channel.address).toBe('assets.events')
    const created = channel.messages['asset.created.v1']!
    expect(created.payload).toMatchObject({ schema: { dependencies: { value: ['currency'] } } })
    expect(created.headers).toMatchObject({ properties: { ce_type: { const: 'asset.created' } } })
    expect(olive.operations['receive_assets.events']).toMatchObject({ action: 'receive' })
    const marty = toAsyncApi(martyCatalog, { servers })
    expect(marty.channels['marty.service.aggregate.eventType']).toMatchObject({
      address: 'marty.{service}.{aggregate}.{eventType}',
      parameters: { service: {}, aggregate: {}, eventType: {} },
    })
  })

  it('catalogs - toAsyncApi needs a server', () => {
    expect(() => toAsyncApi(oliveCatalog, { servers: {} })).toThrow(/at least one server/)
  })
})
