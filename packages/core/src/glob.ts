/**
 * Compiles event-type patterns into one predicate. `*` matches within one dot-separated segment,
 * `**` matches across segments; anything else is literal. `user.*` matches `user.created`
 * but not `user.profile.updated`; `user.**` matches both.
 */
export function typeMatcher(patterns: string | readonly string[]): (type: string) => boolean {
  const list = typeof patterns === 'string' ? [patterns] : patterns
  if (list.length === 0) return () => true
  const exact = new Set(list.filter((p) => !p.includes('*')))
  const regexes = list.filter((p) => p.includes('*')).map(compile)
  return (type) => exact.has(type) || regexes.some((r) => r.test(type))
}

function compile(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        source += '.*'
        i++
      } else {
        source += '[^.]*'
      }
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}
