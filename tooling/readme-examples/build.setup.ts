import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// The examples import what users install, the built `dist`, while the root `pnpm test` builds
// nothing (the other projects run the sources). Turbo rebuilds only what changed.
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  execFileSync(
    'npx',
    ['--yes', 'pnpm@10.34.8', 'exec', 'turbo', 'run', 'build', '--filter=./packages/*'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    },
  )
}
