/**
 * Node's on-disk compile cache for a file's process (Node.js 22.1 and later): every test
 * file's process loads the same Jest, Babel and TypeScript, and with the cache it reuses
 * the compiled code of the processes before it instead of compiling them again. It lives
 * in Jest's cache directory, which the sandboxes share as they share Jest's transform cache.
 */
import module from 'node:module'
import path from 'node:path'

/** Where the compiled code of a project's test processes is kept, in its Jest cache. */
export function compileCacheDirectory(cacheDirectory: string): string {
  return path.join(cacheDirectory, 'nsbox-compile-cache')
}

/**
 * Turns the cache on for this process, where Node has it; quietly does nothing elsewhere
 * (Node.js 20) or when the directory cannot be written (a read-only cache directory): the
 * cache only saves time.
 */
export function enableCompileCache(directory: string): void {
  const enable = (module as { enableCompileCache?: (directory: string) => unknown })
    .enableCompileCache
  enable?.(directory)
}
