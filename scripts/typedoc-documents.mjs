// Copies the guides of docs/ (and the files they link to) for the API site, each with the front matter TypeDoc takes
// its title from (the guide's first heading). The guides themselves carry none: GitHub
// would show it as a table, and the formatter does not keep it.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const source = new URL('../docs/', import.meta.url)
const target = new URL('../.cache/typedoc-documents/', import.meta.url)
rmSync(target, { recursive: true, force: true })
mkdirSync(target, { recursive: true })
for (const entry of readdirSync(source, { withFileTypes: true })) {
  const { name } = entry
  if (!entry.isFile()) continue
  // What the guides link to (the benchmark chart and data) comes along as it is.
  if (!name.endsWith('.md')) {
    copyFileSync(new URL(name, source), new URL(name, target))
    continue
  }
  const text = readFileSync(new URL(name, source), 'utf8')
  const title = /^# (.+)$/m.exec(text)?.[1] ?? name.replace(/\.md$/, '')
  writeFileSync(new URL(name, target), `---\ntitle: ${JSON.stringify(title)}\n---\n\n${text}`)
}
