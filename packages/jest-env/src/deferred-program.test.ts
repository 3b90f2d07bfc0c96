import { createRequire } from 'node:module'
import type * as TypeScript from 'typescript'
import { describe, expect, it } from 'vitest'
import { deferTypeScriptPrograms } from './deferred-program.js'

const require = createRequire(import.meta.url)
deferTypeScriptPrograms()

// A language service over one in-memory file, counting how often TypeScript reads it.
function serviceOver(ts: typeof TypeScript, source: string) {
  const reads = { count: 0 }
  const host: TypeScript.LanguageServiceHost = {
    getCompilationSettings: () => ({ noLib: true, types: [], strict: true }),
    getScriptFileNames: () => ['/project/typed.ts'],
    getScriptVersion: () => '1',
    getScriptSnapshot: (name) => {
      if (name !== '/project/typed.ts') return undefined
      reads.count++
      return ts.ScriptSnapshot.fromString(source)
    },
    getCurrentDirectory: () => '/project',
    getDefaultLibFileName: () => '/lib.d.ts',
    fileExists: (name) => name === '/project/typed.ts',
    readFile: () => undefined,
  }
  return { service: ts.createLanguageService(host), reads }
}

describe('deferTypeScriptPrograms', () => {
  const ts = require('typescript') as typeof TypeScript

  it('builds the first program a language service hands out when it is first used', () => {
    const { service, reads } = serviceOver(ts, 'export const answer: number = 42\n')
    const program = service.getProgram()
    expect(reads.count).toBe(0)
    expect(program?.getSourceFiles().map((file) => file.fileName)).toEqual(['/project/typed.ts'])
    expect(reads.count).toBe(1)
  })

  it('hands out real programs after the first, and still finds type errors', () => {
    const { service, reads } = serviceOver(ts, 'export const answer: string = 42\n')
    service.getProgram()
    const second = service.getProgram()
    expect(reads.count).toBe(1)
    expect(second?.getRootFileNames()).toEqual(['/project/typed.ts'])
    const codes = service.getSemanticDiagnostics('/project/typed.ts').map(({ code }) => code)
    expect(codes).toEqual([2322])
  })

  it('applies to typescript required by the path of its entry, as ts-jest does', () => {
    const byPath = require(require.resolve('typescript')) as typeof TypeScript
    expect(byPath).toBe(ts)
    const { service, reads } = serviceOver(byPath, 'export {}\n')
    service.getProgram()
    expect(reads.count).toBe(0)
  })

  it('leaves the rest of typescript as it is', () => {
    const real = require('typescript/lib/typescript.js') as typeof TypeScript
    expect(ts.version).toMatch(/^\d+\.\d+/)
    expect(ts.transpile).toBe(real.transpile)
  })
})
