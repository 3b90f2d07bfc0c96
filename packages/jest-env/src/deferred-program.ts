/**
 * ts-jest builds a whole TypeScript program (every `lib.*.d.ts` parsed and bound) as soon
 * as it sets up, although it needs one only to compile a file, which a warm transform cache
 * spares it. Jest's own workers pay that once per worker; a process per test file paid it
 * for every file (about 0.6 CPU-s on a trivial project, more with every source file).
 * This defers the build to the program's first use: the first `getProgram()` of each
 * language service that `typescript` creates in this process returns a stand-in that
 * builds the program when it is first touched. Nothing else changes: a file that must be
 * compiled builds the program as before, and type errors are reported as before.
 */
import module from 'node:module'

type Load = (request: string, parent: unknown, isMain: boolean) => unknown
interface TypeScriptModule {
  createLanguageService(...args: unknown[]): LanguageService
}
interface LanguageService {
  getProgram(): object | undefined
}

const loader = module as unknown as { _load: Load }
// `typescript` by name, or by the path of its entry (as ts-jest requires it).
const TYPESCRIPT = /(?:^|[\\/])typescript(?:[\\/]lib[\\/]typescript\.js)?$/
const deferring = new WeakMap<object, TypeScriptModule>()

/**
 * From now on, `require('typescript')` in this process returns a `typescript` whose
 * language services build their first program lazily. Only Node's own `require` is
 * affected (transformers such as ts-jest); the test files' modules load through Jest's.
 */
export function deferTypeScriptPrograms(): void {
  const load = loader._load
  loader._load = function loadDeferringPrograms(this: unknown, request, parent, isMain) {
    const exports = load.call(this, request, parent, isMain)
    return TYPESCRIPT.test(request) ? deferringPrograms(exports) : exports
  }
}

function deferringPrograms(exports: unknown): unknown {
  if (!isTypeScriptModule(exports)) return exports
  let proxy = deferring.get(exports)
  if (!proxy) {
    const createLanguageService = (...args: unknown[]) =>
      withFirstProgramDeferred(exports.createLanguageService(...args))
    // A proxy, as TypeScript 5 exports getters that cannot be redefined.
    proxy = new Proxy(exports, {
      get: (target, key, receiver) =>
        key === 'createLanguageService'
          ? createLanguageService
          : Reflect.get(target, key, receiver),
    })
    deferring.set(exports, proxy)
  }
  return proxy
}

function withFirstProgramDeferred(service: LanguageService): LanguageService {
  const getProgram = service.getProgram.bind(service)
  let isFirst = true
  service.getProgram = () => {
    if (!isFirst) return getProgram()
    isFirst = false
    return lazyProgram(getProgram)
  }
  return service
}

// Stands for the service's current program, built on the first use of any of its members.
function lazyProgram(getProgram: () => object | undefined): object {
  const program = (): object => getProgram() ?? {}
  return new Proxy(
    {},
    {
      get: (_, key) => {
        const current = program()
        const value: unknown = Reflect.get(current, key)
        return typeof value === 'function' ? value.bind(current) : value
      },
      has: (_, key) => Reflect.has(program(), key),
    },
  )
}

function isTypeScriptModule(exports: unknown): exports is TypeScriptModule {
  return (
    typeof exports === 'object' &&
    exports !== null &&
    typeof (exports as Partial<TypeScriptModule>).createLanguageService === 'function'
  )
}
