/** What the connected nats-server supports, detected from its version, never assumed. */
export interface NatsServerFeatures {
  /** The server's version string, e.g. `2.9.10`. */
  version: string
  /** Several filter subjects on one consumer (`filter_subjects`), nats-server 2.10+. */
  multipleFilterSubjects: boolean
}

function parse(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version
    .replace(/^v/, '')
    .split(/[.-]/)
    .slice(0, 3)
    .map((part) => Number.parseInt(part, 10) || 0)
  return [major, minor, patch]
}

/** True when `version` is at least `min` (`major.minor.patch`). */
export function atLeast(version: string, min: string): boolean {
  const a = parse(version)
  const b = parse(min)
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!
  }
  return true
}

/** Features of a server of this version. */
export function serverFeatures(version: string): NatsServerFeatures {
  return {
    version,
    multipleFilterSubjects: atLeast(version, '2.10.0'),
  }
}
