import { useState } from 'preact/hooks'
import { api } from '../api.ts'
import {
  Confirm,
  type PageProps,
  Problem,
  StreamPicker,
  setQuery,
  useApi,
  useStreams,
} from './common.tsx'
import { DeadLetterDetail } from './dead-letter-detail.tsx'
import type { Entry } from './dead-letter-entry.ts'

interface ActionResult {
  done: string[]
  skipped: { id: string; reason: string }[]
  failed: { id: string; detail: string }[]
}

const FILTERS = ['type', 'error', 'group', 'since', 'until', 'status'] as const

/** The query string of the list route from the page's filters (times as ISO). */
function listPath(stream: string, query: URLSearchParams): string {
  const params = new URLSearchParams()
  for (const key of FILTERS) {
    const value = query.get(key)
    if (value === null || value === '') continue
    params.set(key, key === 'since' || key === 'until' ? new Date(value).toISOString() : value)
  }
  return `/api/v1/streams/${encodeURIComponent(stream)}/dead-letters?${params.toString()}`
}

/** Browse, filter, inspect, replay and discard the dead letters of a stream. */
export function DeadLettersPage({ token, query }: PageProps) {
  const streams = useStreams(token)
  const stream = query.get('stream') ?? ''
  const list = useApi<{ entries: Entry[]; matched: number; complete: boolean }>(
    token,
    stream === '' ? undefined : listPath(stream, query),
  )
  const [selected, setSelected] = useState<Set<string>>(new Set())
  const [open, setOpen] = useState<string>()
  const [asking, setAsking] = useState<'replay' | 'discard'>()
  const [result, setResult] = useState<{ action: string; body: ActionResult }>()
  const [error, setError] = useState<unknown>()
  const update = (changes: Record<string, string>) => {
    const next: Record<string, string> = { stream }
    for (const key of FILTERS) next[key] = query.get(key) ?? ''
    setSelected(new Set())
    setQuery('dead-letters', { ...next, ...changes })
  }
  const entries = list.data?.entries ?? []
  const toggle = (id: string) => {
    const next = new Set(selected)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setSelected(next)
  }
  const run = async (action: 'replay' | 'discard') => {
    setAsking(undefined)
    setError(undefined)
    try {
      const path = `/api/v1/streams/${encodeURIComponent(stream)}/dead-letters/${action}`
      const body = await api<ActionResult>(token, path, { json: { ids: [...selected] } })
      setResult({ action, body })
      setSelected(new Set())
      list.reload()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <section>
      <h2>Dead letters</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <StreamPicker streams={streams} value={stream} onChange={(s) => update({ stream: s })} />
        {(['type', 'error', 'group'] as const).map((key) => (
          <label key={key}>
            {key === 'error' ? 'Error or reason' : key === 'type' ? 'Type' : 'Group'}{' '}
            <input
              name={key}
              value={query.get(key) ?? ''}
              placeholder={key === 'type' ? 'order.*' : ''}
              onChange={(e) => update({ [key]: (e.target as HTMLInputElement).value })}
            />
          </label>
        ))}
        {(['since', 'until'] as const).map((key) => (
          <label key={key}>
            {key === 'since' ? 'From' : 'To'}{' '}
            <input
              type="datetime-local"
              name={key}
              value={query.get(key) ?? ''}
              onChange={(e) => update({ [key]: (e.target as HTMLInputElement).value })}
            />
          </label>
        ))}
        <label>
          Status{' '}
          <select
            name="status"
            value={query.get('status') || 'open'}
            onChange={(e) => update({ status: (e.target as HTMLSelectElement).value })}
          >
            {['open', 'replayed', 'discarded', 'all'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </form>
      {stream === '' && <p class="hint">Pick a stream to see its dead letters.</p>}
      <Problem error={list.error ?? error} />
      {result && (
        <p class="result" role="status">
          {result.action === 'replay' ? 'Replayed' : 'Discarded'} {result.body.done.length}
          {result.body.skipped.length > 0 && `, skipped ${result.body.skipped.length}`}
          {result.body.failed.length > 0 &&
            `, failed ${result.body.failed.length}: ${result.body.failed.map((f) => f.detail).join('; ')}`}
        </p>
      )}
      {list.data && (
        <div class="toolbar">
          <span>
            {list.data.matched} matching{list.data.complete ? '' : ' among the oldest retained'}
          </span>
          <button type="button" disabled={selected.size === 0} onClick={() => setAsking('replay')}>
            Replay selected ({selected.size})
          </button>
          <button
            type="button"
            class="danger"
            disabled={selected.size === 0}
            onClick={() => setAsking('discard')}
          >
            Discard selected ({selected.size})
          </button>
        </div>
      )}
      {list.data && (
        <table class="grid" aria-label="Dead letters">
          <thead>
            <tr>
              <th>
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={entries.length > 0 && selected.size === entries.length}
                  onChange={(e) =>
                    setSelected(
                      (e.target as HTMLInputElement).checked
                        ? new Set(entries.map((x) => x.id))
                        : new Set(),
                    )
                  }
                />
              </th>
              <th>Dead-lettered</th>
              <th>Type</th>
              <th>Subject</th>
              <th>Group</th>
              <th>Error</th>
              <th>Attempts</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-entry={e.id} class={open === e.id ? 'open' : ''}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${e.id}`}
                    checked={selected.has(e.id)}
                    onChange={() => toggle(e.id)}
                  />
                </td>
                <td>{new Date(e.dead_lettered_at).toLocaleString()}</td>
                <td>{e.type ?? '(undecodable)'}</td>
                <td>{e.subject ?? ''}</td>
                <td>{e.group}</td>
                <td>
                  <button type="button" class="link" onClick={() => setOpen(e.id)}>
                    {e.error.name}: {e.error.message}
                  </button>
                </td>
                <td class="num">{e.attempts}</td>
                <td>{e.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open !== undefined && (
        <DeadLetterDetail
          token={token}
          stream={stream}
          id={open}
          onClose={() => setOpen(undefined)}
        />
      )}
      {asking !== undefined && (
        <Confirm
          text={`${asking === 'replay' ? 'Replay' : 'Discard'} ${selected.size} dead letter(s) of ${stream}?`}
          action={asking === 'replay' ? 'Replay' : 'Discard'}
          onYes={() => void run(asking)}
          onNo={() => setAsking(undefined)}
        >
          <p class="hint">
            {asking === 'replay'
              ? 'Each original event goes back to its topic, byte for byte: every group of the topic receives it again.'
              : 'Discarded entries leave the open list; the broker keeps them until its retention ends.'}
          </p>
        </Confirm>
      )}
    </section>
  )
}
