import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('the init script compiles under strict and warnings', () => {
  const script = fileURLToPath(new URL('./init.pl', import.meta.url))
  const output = execFileSync('perl', ['-Mstrict', '-Mwarnings', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  expect(output).toBe('')
})
