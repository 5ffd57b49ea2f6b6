/** Which dispatcher run a `process` call was; work that returned `LATER` gives it back to `complete`. */
export type Ticket = { readonly __ticket: never } | undefined

/** Returned by a dispatcher's `process` that will call `complete(ticket)` itself, once, when done. */
export const LATER: unique symbol = Symbol('later')
