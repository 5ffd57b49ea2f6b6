// Core's type globs (`leave.*` one segment, `leave.**` one or more) evaluated by the type checker,
// so a route's handler sees exactly the catalog types its pattern can receive. Patterns and types
// are split at dots and compared segment by segment; a `*` inside a segment becomes `${string}`.

/** `'a.b.c'` → `['a', 'b', 'c']`. */
type Segments<S extends string> = S extends `${infer Head}.${infer Rest}`
  ? [Head, ...Segments<Rest>]
  : [S]

/** One pattern segment as a template literal type: `created*` → `` `created${string}` ``. */
type SegmentTemplate<P extends string> = P extends `${infer A}*${infer B}`
  ? `${A}${string}${SegmentTemplate<B>}`
  : P

/**
 * Some type of the set `T` (a literal, or a segment of a catalog's template key such as
 * `` `marty.domain.${string}.${string}` ``) can match the pattern segment.
 */
type SegmentMatches<T extends string, P extends string> =
  T extends SegmentTemplate<P> ? true : SegmentTemplate<P> extends T ? true : false

type SegmentsMatch<T extends readonly string[], P extends readonly string[]> = P extends readonly [
  infer Head extends string,
  ...infer Rest extends string[],
]
  ? Head extends '**'
    ? T extends readonly [string, ...infer TRest extends string[]]
      ? SegmentsMatch<TRest, Rest> extends true
        ? true
        : SegmentsMatch<TRest, P>
      : false
    : T extends readonly [infer THead extends string, ...infer TRest extends string[]]
      ? SegmentMatches<THead, Head> extends true
        ? SegmentsMatch<TRest, Rest>
        : false
      : false
  : T extends readonly []
    ? true
    : false

/**
 * The members of the type union `Types` that the glob `Pattern` can match at run time (a
 * template key such as `` `marty.domain.${string}.${string}` `` when some type of it can).
 */
export type TypesMatching<Types extends string, Pattern extends string> = Types extends unknown
  ? SegmentsMatch<Segments<Types>, Segments<Pattern>> extends true
    ? Types
    : never
  : never
