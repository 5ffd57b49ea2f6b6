import { formatNumber, LineChart, Sparkline } from '../chart.tsx'
import { useLive } from '../live.ts'
import { age, type PageProps } from './common.tsx'
import { Status } from './streams.tsx'

/** Consumer groups of every readable stream: lag, pending, oldest unsettled, live. */
export function GroupsPage(_props: PageProps) {
  const live = useLive()
  const rows = live.streams.flatMap((s) =>
    (s.consumer_groups ?? []).map((g) => ({ stream: s.stream, ...g })),
  )
  const unavailable = [
    ...new Set(
      live.streams.flatMap((s) => (s.consumer_groups === null ? (s.unavailable ?? []) : [])),
    ),
  ]
  const series = rows.map((r) => ({
    name: `${r.stream} / ${r.group}`,
    points: (live.history[r.stream] ?? []).map((p) => ({ t: p.t, v: p.lag[r.group] ?? 0 })),
  }))
  return (
    <section>
      <h2>Consumer groups</h2>
      <Status connected={live.connected} closed={live.closed} />
      {series.length > 0 && <LineChart series={series} unit="events behind" seconds={300} />}
      <table class="grid" aria-label="Consumer groups">
        <thead>
          <tr>
            <th>Stream</th>
            <th>Group</th>
            <th>Lag</th>
            <th>Trend</th>
            <th>Pending</th>
            <th>Oldest unsettled</th>
            <th>Dead-lettered</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={`${r.stream}/${r.group}`} data-group={r.group}>
              <td>{r.stream}</td>
              <td>{r.group}</td>
              <td class="num" data-lag={r.lag ?? ''}>
                {r.lag === null ? '—' : formatNumber(r.lag)}
              </td>
              <td>
                <Sparkline
                  values={(series[i]?.points ?? []).map((p) => p.v)}
                  label={`${r.group} lag`}
                />
              </td>
              <td class="num">{r.pending === null ? '—' : formatNumber(r.pending)}</td>
              <td class="num">{age(r.oldest_unsettled_age_ms)}</td>
              <td class="num">
                <a
                  href={`#/dead-letters?stream=${encodeURIComponent(r.stream)}&group=${encodeURIComponent(r.group)}`}
                >
                  {r.dead_lettered ?? '—'}
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && live.connected && <p class="hint">No consumer group to show.</p>}
      {unavailable.map((u) => (
        <p key={u} class="hint">
          Not shown: {u}.
        </p>
      ))}
    </section>
  )
}
