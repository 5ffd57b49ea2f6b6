import { packageProject } from '@switchyard/config/vitest'
import { defineProject } from 'vitest/config'

const project = packageProject('event-sourcing')
// As in the outbox: let Node pick pg's CommonJS build.
project.ssr.resolve.conditions = ['@switchyard/source', 'node', 'default']

export default defineProject(project)
