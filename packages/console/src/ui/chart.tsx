// Small hand-drawn SVG line charts: a sparkline per row and a chart with a time axis.

interface SparkProps {
  values: number[]
  width?: number
  height?: number
  label?: string
}

function path(values: number[], width: number, height: number, max: number): string {
  if (values.length === 0) return ''
  const step = values.length > 1 ? width / (values.length - 1) : width
  return values
    .map((v, i) => {
      const x = (i * step).toFixed(1)
      const y = (height - 1 - (v / max) * (height - 2)).toFixed(1)
      return `${i === 0 ? 'M' : 'L'}${x},${y}`
    })
    .join(' ')
}

/** A line of the last values, scaled to their maximum. */
export function Sparkline({ values, width = 120, height = 28, label }: SparkProps) {
  const max = Math.max(1, ...values)
  const line = path(values, width, height, max)
  return (
    <svg
      class="spark"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label ?? 'trend'}
    >
      <path d={`${line} L${width},${height} L0,${height} Z`} class="spark-area" />
      <path d={line} class="spark-line" />
    </svg>
  )
}

/** One line of a `LineChart`: values at times (ms since the epoch). */
export interface Series {
  name: string
  points: { t: number; v: number }[]
}

function timePath(
  points: Series['points'],
  box: { width: number; height: number; max: number; from: number; ms: number },
): string {
  return points
    .filter((p) => p.t >= box.from)
    .map((p, i) => {
      const x = (((p.t - box.from) / box.ms) * box.width).toFixed(1)
      const y = (box.height - 1 - (p.v / box.max) * (box.height - 2)).toFixed(1)
      return `${i === 0 ? 'M' : 'L'}${x},${y}`
    })
    .join(' ')
}

/** Several series over the last `seconds`, placed by time, with the maximum on the axis. */
export function LineChart({
  series,
  unit,
  seconds,
}: {
  series: Series[]
  unit: string
  seconds: number
}) {
  const width = 560
  const height = 140
  const ms = seconds * 1000
  const now = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.t)))
  const box = { width, height, ms, from: now - ms, max: 1 }
  box.max = Math.max(
    1,
    ...series.flatMap((s) => s.points.filter((p) => p.t >= box.from).map((p) => p.v)),
  )
  return (
    <figure class="chart">
      <svg
        width={width}
        height={height + 16}
        viewBox={`0 0 ${width} ${height + 16}`}
        role="img"
        aria-label={`${series.map((s) => s.name).join(', ')} in ${unit}`}
      >
        <line x1="0" y1={height} x2={width} y2={height} class="axis" />
        <text x="2" y="10" class="tick">
          {formatNumber(box.max)} {unit}
        </text>
        <text x="2" y={height + 13} class="tick">
          −{Math.round(seconds / 60)} min
        </text>
        <text x={width - 24} y={height + 13} class="tick">
          now
        </text>
        {series.map((s, i) => (
          <path key={s.name} d={timePath(s.points, box)} class={`line line-${i % 6}`} />
        ))}
      </svg>
      <figcaption>
        {series.map((s, i) => (
          <span key={s.name} class={`legend line-${i % 6}`}>
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  )
}

/** 1234 → "1,234"; 1.234 → "1.2". */
export function formatNumber(n: number): string {
  return n >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString('en') : n.toFixed(1)
}
