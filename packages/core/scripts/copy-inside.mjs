// Copies the in-sandbox init next to the compiled launcher. Perl parses the script on
// every launch, so the shipped copy leaves out comment and blank lines: measured 0.4 ms
// less per sandbox. The source under src/inside keeps them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const source = readFileSync(new URL('../src/inside/init.pl', import.meta.url), 'utf8')
const shipped = source
  .split('\n')
  .filter((line) => !/^\s*(#.*)?$/.test(line))
  .join('\n')
mkdirSync(new URL('../dist/inside', import.meta.url), { recursive: true })
writeFileSync(new URL('../dist/inside/init.pl', import.meta.url), `${shipped}\n`)
