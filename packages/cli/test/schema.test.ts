import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { oneLineError, requireBuiltBin, runBin } from './support.js'

requireBuiltBin()
const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-schema-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, value: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value))
  return path
}

const employee = {
  employee_id: 'emp_123',
  email: 'john@example.com',
  first_name: 'John',
  last_name: 'Doe',
  department: 'Engineering',
}

describe('schema', () => {
  test('schema validate - valid data exits 0, invalid data lists every issue and exits 5', async () => {
    const good = await runBin([
      'schema',
      'validate',
      'employee.created',
      file('good.json', employee),
      '--json',
    ])
    expect(good.code, good.stderr).toBe(0)
    expect(JSON.parse(good.stdout)).toEqual({
      type: 'employee.created',
      version: 1,
      valid: true,
      issues: [],
    })
    const bad = await runBin([
      'schema',
      'validate',
      'employee.created',
      file('bad.json', { ...employee, email: 'nope', first_name: undefined }),
      '--json',
    ])
    expect(bad.code).toBe(5)
    const result = JSON.parse(bad.stdout)
    expect(result.valid).toBe(false)
    expect(result.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'data.email',
      'data.first_name',
    ])
    expect(oneLineError(bad)).toContain('does not match employee.created v1: 2 issues')
  })

  test('schema validate - an unknown type is exit 4, malformed JSON exit 2', async () => {
    const unknown = await runBin(['schema', 'validate', 'no.such.type', file('x.json', {})])
    expect(unknown.code).toBe(4)
    expect(oneLineError(unknown)).toContain('No schema for event type "no.such.type"')
    const malformed = await runBin([
      'schema',
      'validate',
      'employee.created',
      file('m.json', '{"a":'),
    ])
    expect(malformed.code).toBe(2)
    expect(oneLineError(malformed)).toContain('is not valid JSON')
  })

  test('schema compat - a new required field is breaking (exit 5), a new optional one is not', async () => {
    const v1 = file('v1.json', {
      type: 'object',
      required: ['a'],
      properties: { a: { type: 'string' } },
    })
    const v2 = file('v2.json', {
      type: 'object',
      required: ['a', 'b'],
      properties: { a: { type: 'string' }, b: { type: 'integer' } },
    })
    const breaking = await runBin(['schema', 'compat', v1, v2, '--json'])
    expect(breaking.code).toBe(5)
    expect(JSON.parse(breaking.stdout).problems).toContain('data.b: is now required')
    const fine = await runBin(['schema', 'compat', v2, v1, '--json'])
    expect(fine.code, fine.stderr).toBe(0)
    expect(JSON.parse(fine.stdout)).toEqual({ compatible: true, problems: [] })
    const catalog = await runBin(['schema', 'compat', 'employee.created@1', 'employee.created@1'])
    expect(catalog.code, catalog.stderr).toBe(0)
  })

  test('asyncapi - writes an AsyncAPI 3.0 document of a catalog with the server of --url', async () => {
    const out = join(dir, 'olive.asyncapi.json')
    const result = await runBin([
      'asyncapi',
      '--catalog',
      'olive',
      '--url',
      'kafka://broker:9092',
      '--out',
      out,
      '--json',
    ])
    expect(result.code, result.stderr).toBe(0)
    const doc = JSON.parse(readFileSync(out, 'utf8'))
    expect(doc.asyncapi).toBe('3.0.0')
    expect(doc.servers).toEqual({ kafka: { host: 'broker:9092', protocol: 'kafka' } })
    expect(Object.keys(doc.channels).length).toBe(JSON.parse(result.stdout).channels)
    const all = await runBin(['asyncapi'])
    expect(all.code).toBe(0)
    expect(JSON.parse(all.stdout).info.title).toContain('Olive')
  })

  test('catalog - a JSON catalog file adds types that publish validates', async () => {
    const catalog = file('orders.json', {
      name: 'orders',
      title: 'Orders',
      version: '1.0.0',
      description: 'Order events',
      specs: [
        {
          type: 'order.created',
          version: 1,
          topic: 'orders',
          summary: 'An order was placed',
          schema: {
            type: 'object',
            required: ['total'],
            properties: { total: { type: 'number' } },
          },
        },
      ],
    })
    const bad = await runBin([
      'publish',
      'orders',
      '--type',
      'order.created',
      '--data',
      '{"total":"ten"}',
      '--catalog',
      catalog,
      '--url',
      'memory:',
    ])
    expect(bad.code).toBe(5)
    expect(oneLineError(bad)).toContain('data.total')
    const good = await runBin(
      [
        'publish',
        'orders',
        '--type',
        'order.created',
        '--catalog',
        catalog,
        '--url',
        'memory:',
        '--json',
      ],
      { input: '{"total":10}\n{"total":12.5}\n' },
    )
    expect(good.code, good.stderr).toBe(0)
    expect(JSON.parse(good.stdout)).toMatchObject({ topic: 'orders', published: 2 })
  })
})
