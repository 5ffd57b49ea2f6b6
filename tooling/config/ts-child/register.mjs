// Registered with `node --import @switchyard/config/ts-child`: lets a child process that a
// fault test kills run the TypeScript sources of this repository directly.
import { register } from 'node:module'

register('./ts-hooks.mjs', import.meta.url)
