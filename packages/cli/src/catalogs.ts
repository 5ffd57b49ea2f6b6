import { readFile } from 'node:fs/promises'
// Loaded on use: ajv and the catalogs cost more start-up time than the rest of the bin.
import type { Catalog, CatalogInit, SchemaRegistry } from '@switchyard/schemas'
import { UsageError } from './exit-codes.js'

const BUILT_IN = ['olive', 'anumate', 'marty'] as const

async function builtIn(name: (typeof BUILT_IN)[number]): Promise<Catalog> {
  if (name === 'olive') return (await import('@switchyard/schemas/olive')).oliveCatalog
  if (name === 'anumate') return (await import('@switchyard/schemas/anumate')).anumateCatalog
  return (await import('@switchyard/schemas/marty')).martyCatalog
}

/** Reads and parses a JSON file; a missing file or malformed JSON is a usage error naming it. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(
      `Cannot read ${what} "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  return parseJson(text, `${what} "${path}"`)
}

/** `JSON.parse` whose error names what was parsed, in one line. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`)
  }
}

async function fromFile(path: string): Promise<Catalog> {
  const init = (await readJsonFile(path, 'catalog')) as Partial<CatalogInit>
  if (init === null || typeof init !== 'object' || !Array.isArray(init.specs))
    throw new UsageError(
      `Catalog "${path}" must be a JSON object with name, title, version, description and specs (as defineCatalog takes)`,
    )
  const { defineCatalog } = await import('@switchyard/schemas')
  try {
    return defineCatalog(init as CatalogInit)
  } catch (error) {
    throw new UsageError(`Catalog "${path}": ${(error as Error).message}`)
  }
}

/**
 * The catalogs `--catalog` names (built-in names or JSON files of `defineCatalog` input), or
 * the three built-in seed catalogs when it is not given.
 */
export async function loadCatalogs(names: readonly string[] | undefined): Promise<Catalog[]> {
  const chosen = names === undefined || names.length === 0 ? BUILT_IN : names
  return Promise.all(
    chosen.map((name) =>
      (BUILT_IN as readonly string[]).includes(name)
        ? builtIn(name as (typeof BUILT_IN)[number])
        : fromFile(name),
    ),
  )
}

/** A registry holding every event of the catalogs. */
export async function loadRegistry(names: readonly string[] | undefined): Promise<SchemaRegistry> {
  const { createSchemaRegistry } = await import('@switchyard/schemas')
  const registry = createSchemaRegistry() as SchemaRegistry
  for (const catalog of await loadCatalogs(names)) registry.use(catalog)
  return registry
}
