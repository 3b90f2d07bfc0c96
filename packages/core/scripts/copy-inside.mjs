// Copies the in-sandbox files (not TypeScript) next to the compiled launcher.
import { cpSync } from 'node:fs'

cpSync(new URL('../src/inside', import.meta.url), new URL('../dist/inside', import.meta.url), {
  recursive: true,
})
