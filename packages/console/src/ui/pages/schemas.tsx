import { useState } from 'preact/hooks'
import { type PageProps, Problem, useApi } from './common.tsx'

interface SchemaView {
  event_type: string
  version: number
  origin: string
  description?: string
  schema: unknown
}

/** The schema registry: every event type with a schema, and the schema itself. */
export function SchemasPage({ token }: PageProps) {
  const { data, error } = useApi<{ schemas: SchemaView[] }>(token, '/api/v1/schemas')
  const [filter, setFilter] = useState('')
  const [open, setOpen] = useState<string>()
  const schemas = (data?.schemas ?? []).filter(
    (s) => filter === '' || `${s.event_type} ${s.origin}`.includes(filter),
  )
  const shown = schemas.find((s) => s.event_type === open)
  return (
    <section>
      <h2>Schemas</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Filter{' '}
          <input
            name="filter"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
      </form>
      <Problem error={error} />
      <div class="split">
        <table class="grid" aria-label="Schemas">
          <thead>
            <tr>
              <th>Event type</th>
              <th>Version</th>
              <th>Origin</th>
            </tr>
          </thead>
          <tbody>
            {schemas.map((s) => (
              <tr key={s.event_type} class={open === s.event_type ? 'open' : ''}>
                <td>
                  <button type="button" class="link" onClick={() => setOpen(s.event_type)}>
                    {s.event_type}
                  </button>
                </td>
                <td class="num">{s.version}</td>
                <td>{s.origin}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown && (
          <aside class="detail">
            <h3>
              {shown.event_type} v{shown.version}
            </h3>
            {shown.description && <p>{shown.description}</p>}
            <pre>{JSON.stringify(shown.schema, null, 2)}</pre>
          </aside>
        )}
      </div>
    </section>
  )
}
