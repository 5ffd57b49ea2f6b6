import { packageProject } from '@switchyard/config/vitest'
import { defineProject } from 'vitest/config'

const project = packageProject('event-store')
// As in the outbox: keep the source condition for workspace packages and let Node choose the
// rest, or Node's require() of pg-pool picks its ESM build and `pg` breaks.
project.ssr.resolve.conditions = ['@switchyard/source', 'node', 'default']

export default defineProject(project)
