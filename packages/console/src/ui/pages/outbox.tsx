import { useState } from 'preact/hooks'
import { ApiError, api } from '../api.ts'
import { age, Confirm, type PageProps, Problem, useApi } from './common.tsx'

interface Parked {
  id: string
  topic: string
  partition_key: string | null
  attempts: number
  last_error: string | null
  created_at: string
  parked_at: string
}

/** The outbox backlog and the rows the relay parked, with requeueing. */
export function OutboxPage({ token }: PageProps) {
  const status = useApi<{
    pending: number
    pending_lag_ms: number
    parked: number
    parked_lag_ms: number
  }>(token, '/api/v1/outbox')
  const parked = useApi<{ parked: Parked[] }>(
    token,
    status.data ? '/api/v1/outbox/parked' : undefined,
  )
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [asking, setAsking] = useState(false)
  const [message, setMessage] = useState<string>()
  const [error, setError] = useState<unknown>()
  const requeue = async () => {
    setAsking(false)
    try {
      const body = await api<{ requeued: number }>(token, '/api/v1/outbox/parked/requeue', {
        json: { ids: [...selected] },
      })
      setMessage(`Requeued ${body.requeued} row(s)`)
      setSelected(new Set())
      status.reload()
      parked.reload()
    } catch (e) {
      setError(e)
    }
  }
  const missing = status.error instanceof ApiError && status.error.status === 404
  return (
    <section>
      <h2>Outbox</h2>
      {missing ? (
        <p class="hint">{(status.error as Error).message}.</p>
      ) : (
        <Problem error={status.error ?? error} />
      )}
      {status.data && (
        <div class="cards">
          <div class="card">
            <span class="big" data-pending>
              {status.data.pending}
            </span>
            pending, oldest {age(status.data.pending_lag_ms)}
          </div>
          <div class="card">
            <span class="big" data-parked>
              {status.data.parked}
            </span>
            parked, oldest {age(status.data.parked_lag_ms)}
          </div>
        </div>
      )}
      {message && <p class="result">{message}</p>}
      {parked.data && (
        <>
          <div class="toolbar">
            <button type="button" disabled={selected.size === 0} onClick={() => setAsking(true)}>
              Requeue selected ({selected.size})
            </button>
          </div>
          <table class="grid" aria-label="Parked rows">
            <thead>
              <tr>
                <th />
                <th>Event id</th>
                <th>Topic</th>
                <th>Attempts</th>
                <th>Last error</th>
                <th>Parked</th>
              </tr>
            </thead>
            <tbody>
              {parked.data.parked.map((row) => (
                <tr key={row.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${row.id}`}
                      checked={selected.has(row.id)}
                      onChange={() => {
                        const next = new Set(selected)
                        if (!next.delete(row.id)) next.add(row.id)
                        setSelected(next)
                      }}
                    />
                  </td>
                  <td class="mono">{row.id}</td>
                  <td>{row.topic}</td>
                  <td class="num">{row.attempts}</td>
                  <td>{row.last_error ?? ''}</td>
                  <td>{new Date(row.parked_at).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {asking && (
        <Confirm
          text={`Requeue ${selected.size} parked row(s) with a fresh attempt budget?`}
          action="Requeue"
          onYes={() => void requeue()}
          onNo={() => setAsking(false)}
        />
      )}
    </section>
  )
}
