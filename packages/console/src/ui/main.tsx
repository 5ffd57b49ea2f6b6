import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, claimsOf } from './api.ts'
import { startMonitoring, stopMonitoring } from './live.ts'
import { DeadLettersPage } from './pages/dead-letters.tsx'
import { GroupsPage } from './pages/groups.tsx'
import { OutboxPage } from './pages/outbox.tsx'
import { SchemasPage } from './pages/schemas.tsx'
import { StreamsPage } from './pages/streams.tsx'
import { TailPage } from './pages/tail.tsx'

const KEY = 'switchyard.console.token'
const PAGES = [
  ['streams', 'Streams'],
  ['groups', 'Consumer groups'],
  ['dead-letters', 'Dead letters'],
  ['tail', 'Live tail'],
  ['outbox', 'Outbox'],
  ['schemas', 'Schemas'],
] as const

/** The page and its query from `#/page?a=b`. */
function route(): { page: string; query: URLSearchParams } {
  const [page = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?')
  return { page: page || 'streams', query: new URLSearchParams(query) }
}

function Login({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string>()
  const submit = async (event: Event) => {
    event.preventDefault()
    const token = value.trim()
    try {
      await api(token, '/api/v1/status')
      onToken(token)
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The token could not be checked')
    }
  }
  return (
    <main class="login">
      <h1>Switchyard console</h1>
      <form onSubmit={submit}>
        <label for="token">Bearer token</label>
        <textarea
          id="token"
          rows={4}
          value={value}
          placeholder="Paste a token (switchyard-gateway token, or the one pnpm demo -- --serve printed)"
          onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" disabled={value.trim() === ''}>
          Log in
        </button>
        {error && <p class="error">{error}</p>}
      </form>
      <p class="hint">
        The token stays in this tab (session storage) and goes to this gateway only.
      </p>
    </main>
  )
}

function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(KEY) ?? '')
  const [where, setWhere] = useState(route)
  useEffect(() => {
    const onHash = () => setWhere(route())
    addEventListener('hashchange', onHash)
    return () => removeEventListener('hashchange', onHash)
  }, [])
  const logout = () => {
    sessionStorage.removeItem(KEY)
    stopMonitoring()
    setToken('')
  }
  useEffect(() => {
    if (token !== '') startMonitoring(token, logout)
  }, [token])
  if (token === '') {
    return (
      <Login
        onToken={(t) => {
          sessionStorage.setItem(KEY, t)
          setToken(t)
        }}
      />
    )
  }
  const claims = claimsOf(token)
  const props = { token, query: where.query }
  return (
    <div class="shell">
      <header>
        <strong>Switchyard</strong>
        <nav>
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} class={where.page === id ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" title={claims.roles.join(' ')}>
          {claims.tenant === null ? 'all tenants' : `tenant ${claims.tenant}`} ·{' '}
          {claims.roles.join(', ')}
        </span>
        <button type="button" class="link" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {where.page === 'streams' && <StreamsPage {...props} />}
        {where.page === 'groups' && <GroupsPage {...props} />}
        {where.page === 'dead-letters' && <DeadLettersPage {...props} />}
        {where.page === 'tail' && <TailPage {...props} />}
        {where.page === 'outbox' && <OutboxPage {...props} />}
        {where.page === 'schemas' && <SchemasPage {...props} />}
      </main>
    </div>
  )
}

render(<App />, document.getElementById('app')!)
