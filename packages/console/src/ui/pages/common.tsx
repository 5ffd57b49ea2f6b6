import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api } from '../api.ts'

/** What every page gets: the token and the query of its hash route. */
export interface PageProps {
  token: string
  query: URLSearchParams
}

/** A refusal or failure of the API, as the gateway worded it. */
export function Problem({ error }: { error: unknown }) {
  if (error === undefined) return null
  const status = error instanceof ApiError ? error.status : 0
  const message = error instanceof Error ? error.message : String(error)
  const title = status === 403 ? 'Refused' : status === 401 ? 'Not logged in' : 'Failed'
  return (
    <p class="error" role="alert" data-status={status}>
      <strong>
        {title}
        {status > 0 ? ` (${status})` : ''}:
      </strong>{' '}
      {message}
    </p>
  )
}

/** Loads `path` whenever `key` changes; `reload` loads it again. */
export function useApi<T>(token: string, path: string | undefined) {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<unknown>()
  const [round, setRound] = useState(0)
  useEffect(() => {
    if (path === undefined) return
    let current = true
    setError(undefined)
    api<T>(token, path).then(
      (body) => current && setData(body),
      (e: unknown) => {
        if (!current) return
        setData(undefined)
        setError(e)
      },
    )
    return () => {
      current = false
    }
  }, [token, path, round])
  return { data, error, reload: () => setRound((r) => r + 1) }
}

/** The streams the token may read, for pickers. */
export function useStreams(token: string): string[] {
  const { data } = useApi<{ streams: { id: string }[] }>(token, '/api/v1/streams')
  return data?.streams.map((s) => s.id) ?? []
}

/** A stream picker that also accepts a name typed in (a stream the list does not show). */
export function StreamPicker(props: {
  streams: string[]
  value: string
  onChange: (s: string) => void
}) {
  return (
    <label>
      Stream{' '}
      <input
        list="stream-names"
        name="stream"
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).value.trim())}
      />
      <datalist id="stream-names">
        {props.streams.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
    </label>
  )
}

/** A modal asking to confirm an action before it is sent. */
export function Confirm(props: {
  text: string
  action: string
  onYes: () => void
  onNo: () => void
  children?: ComponentChildren
}) {
  return (
    <div class="modal" role="dialog" aria-modal="true" aria-label="Confirm">
      <div class="modal-box">
        <p>{props.text}</p>
        {props.children}
        <div class="buttons">
          <button type="button" onClick={props.onNo}>
            Cancel
          </button>
          <button type="button" class="danger" onClick={props.onYes}>
            {props.action}
          </button>
        </div>
      </div>
    </div>
  )
}

/** Milliseconds as "850 ms", "12 s", "3 min". */
export function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`
  return `${Math.round(ms / 60_000)} min`
}

/** Sets one key of the hash route's query. */
export function setQuery(page: string, query: Record<string, string>): void {
  location.hash = `#/${page}?${new URLSearchParams(query).toString()}`
}
