import { formatNumber, LineChart, Sparkline } from '../chart.tsx'
import { useLive } from '../live.ts'
import type { PageProps } from './common.tsx'

/** Streams with their publish rate, retained count and dead letters, live. */
export function StreamsPage(_props: PageProps) {
  const live = useLive()
  const readable = live.streams.filter((s) => s.error === undefined)
  const refused = live.streams.filter((s) => s.error !== undefined)
  const series = readable.map((s) => ({
    name: s.stream,
    points: (live.history[s.stream] ?? []).map((p) => ({ t: p.t, v: p.rate })),
  }))
  return (
    <section>
      <h2>Streams</h2>
      <Status connected={live.connected} closed={live.closed} />
      {series.length > 0 && <LineChart series={series} unit="events/s" seconds={300} />}
      <table class="grid" aria-label="Streams">
        <thead>
          <tr>
            <th>Stream</th>
            <th>Publish rate</th>
            <th>Trend</th>
            <th>Published here</th>
            <th>Retained</th>
            <th>Dead letters</th>
            <th>Groups</th>
          </tr>
        </thead>
        <tbody>
          {readable.map((s) => {
            const points = live.history[s.stream] ?? []
            const rate = points.at(-1)?.rate ?? 0
            return (
              <tr key={s.stream} data-stream={s.stream}>
                <td>
                  <a href={`#/tail?stream=${encodeURIComponent(s.stream)}`}>{s.stream}</a>
                </td>
                <td class="num" data-rate={rate.toFixed(2)}>
                  {formatNumber(rate)}/s
                </td>
                <td>
                  <Sparkline
                    values={points.map((p) => p.rate)}
                    label={`${s.stream} publish rate`}
                  />
                </td>
                <td class="num">{formatNumber(s.published_total ?? 0)}</td>
                <td class="num">
                  {s.retained_count_complete === false ? '≥ ' : ''}
                  {formatNumber(s.retained_count ?? 0)}
                </td>
                <td class="num">
                  <a href={`#/dead-letters?stream=${encodeURIComponent(s.stream)}`}>
                    {s.dead_letter_depth ?? 0}
                  </a>
                </td>
                <td class="num">{s.consumer_groups?.length ?? '—'}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {readable.length === 0 && live.connected && (
        <p class="hint">No stream this token may read.</p>
      )}
      {refused.map((s) => (
        <p key={s.stream} class="error">
          {s.stream}: {s.error?.detail}
        </p>
      ))}
      <p class="hint">
        The publish rate counts events published through this gateway, per second between frames of{' '}
        <code>/ws/monitoring</code>; the retained count is what the broker keeps.
      </p>
    </section>
  )
}

/** Whether the monitoring connection is up. */
export function Status({ connected, closed }: { connected: boolean; closed: string | undefined }) {
  return (
    <p class={connected ? 'live on' : 'live off'}>
      {connected ? 'live' : closed === undefined ? 'connecting…' : `disconnected: ${closed}`}
    </p>
  )
}
