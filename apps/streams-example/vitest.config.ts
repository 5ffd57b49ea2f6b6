import { packageProject } from '@switchyard/config/vitest'
import { defineProject } from 'vitest/config'

export default defineProject(packageProject('streams-example'))
