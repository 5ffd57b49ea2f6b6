/** Catalog folders and the name of their event map type. */
export declare const CATALOGS: readonly { dir: string; map: string; title: string }[]
/** Returns `{ path: content }` for every generated types file. */
export declare function generateAll(): Promise<Record<string, string>>
