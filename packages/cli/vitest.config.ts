import { packageProject } from '@switchyard/config/vitest'
import { defineProject } from 'vitest/config'

const project = packageProject('cli')
// As in the outbox: with `import` among the worker's conditions Node's require() of `pg` breaks.
project.ssr.resolve.conditions = ['@switchyard/source', 'node', 'default']

export default defineProject(project)
