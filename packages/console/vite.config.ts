import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The app lives in src/ui and is built into dist/app, which ships in the package. `base: './'`
// keeps asset URLs relative, so it works under whatever prefix the gateway mounts it at.
export default defineConfig({
  root: fileURLToPath(new URL('./src/ui', import.meta.url)),
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('./dist/app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
})
