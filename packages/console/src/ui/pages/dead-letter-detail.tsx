import { type PageProps, Problem, useApi } from './common.tsx'
import type { Entry } from './dead-letter-entry.ts'

interface Detail extends Entry {
  topic: string
  source: string | null
  error: {
    name: string
    message: string
    code?: string
    issues?: { path: string; message: string }[]
  }
  event: unknown
  message: { headers: Record<string, string>; key: string | null; body_base64?: string }
  actions: { action: string; by: string | null; at: string }[]
  position: string | null
}

/** One dead letter: reason, error, what was done to it, and the original event. */
export function DeadLetterDetail(props: {
  token: PageProps['token']
  stream: string
  id: string
  onClose: () => void
}) {
  const path = `/api/v1/streams/${encodeURIComponent(props.stream)}/dead-letters/${encodeURIComponent(props.id)}`
  const { data, error } = useApi<Detail>(props.token, path)
  return (
    <aside class="detail" aria-label="Dead letter">
      <button type="button" class="close" onClick={props.onClose} aria-label="Close">
        ×
      </button>
      <h3>Dead letter {props.id}</h3>
      <Problem error={error} />
      {data && (
        <dl>
          <dt>Reason</dt>
          <dd data-reason>{data.reason}</dd>
          <dt>Error</dt>
          <dd>
            {data.error.name}: {data.error.message}
            {data.error.code ? ` (${data.error.code})` : ''}
            {data.error.issues && (
              <ul>
                {data.error.issues.map((i) => (
                  <li key={i.path}>
                    {i.path}: {i.message}
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>Topic / group</dt>
          <dd>
            {data.topic} / {data.group} after {data.attempts} attempt(s)
          </dd>
          <dt>Status</dt>
          <dd>
            {data.status}
            {data.actions.map((a) => (
              <div key={`${a.action}${a.at}`} class="hint">
                {a.action} {new Date(a.at).toLocaleString()} by {a.by ?? 'unknown'}
              </div>
            ))}
          </dd>
          <dt>Original event</dt>
          <dd>
            <pre>{JSON.stringify(data.event ?? data.message, null, 2)}</pre>
          </dd>
        </dl>
      )}
    </aside>
  )
}
