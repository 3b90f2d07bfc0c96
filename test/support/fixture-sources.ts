/**
 * Test files for the runner fixture projects, the same tests in the module style each
 * runner's fixtures use: ES modules importing from `vitest`, or CommonJS with Jest's
 * globals.
 */
export interface FixtureSources {
  /** Four files that all listen on one port and write one /tmp path, at the same time. */
  collidingFiles(sharedPath: string, port: number): Record<string, string>
  /** A file that starts a detached grandchild with `marker` on its command line. */
  leaky(marker: string): string
  /** A file that allocates until something stops it. */
  allocateForever: string
  /** A file that holds 400 MB. */
  allocate400MB: string
  /** A file that passes. */
  passing: string
}

/** The sources in one runner's module style. */
export function fixtureSources(style: 'vitest' | 'jest'): FixtureSources {
  const header = (modules: Record<string, string>, globals: string[]): string =>
    style === 'vitest'
      ? [
          ...Object.entries(modules).map(([name, from]) => `import ${name} from '${from}'`),
          ...(globals.length > 0 ? [`import { ${globals.join(', ')} } from 'vitest'`] : []),
          '',
        ].join('\n')
      : [
          ...Object.entries(modules).map(([name, from]) => `const ${name} = require('${from}')`),
          '',
        ].join('\n')
  return {
    collidingFiles: (sharedPath, port) => {
      const file = (
        id: number,
      ) => `${header({ net: 'node:net', fs: 'node:fs' }, ['expect', 'test'])}
test('owns port ${port} and ${sharedPath}', async () => {
  const server = net.createServer()
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(${port}, '127.0.0.1', resolve) })
  fs.writeFileSync('${sharedPath}', 'file ${id}')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  expect(fs.readFileSync('${sharedPath}', 'utf8')).toBe('file ${id}')
  server.close()
})
`
      return Object.fromEntries([1, 2, 3, 4].map((id) => [`tests/collide-${id}.test.js`, file(id)]))
    },
    leaky: (marker) => `${header({ '{ spawn }': 'node:child_process' }, ['test'])}
test('starts a detached grandchild', () => {
  spawn('sh', ['-c', 'sleep 300; true', '${marker}'], { detached: true, stdio: 'ignore' }).unref()
})
`,
    allocateForever: `${header({}, ['test'])}
test('allocates until stopped', () => { const chunks = []; for (;;) chunks.push(Buffer.alloc(1 << 20, 1)) })
`,
    allocate400MB: `${header({}, ['expect', 'test'])}
test('holds 400 MB', () => {
  const chunks = []
  for (let i = 0; i < 400; i++) chunks.push(Buffer.alloc(1 << 20, 1))
  expect(chunks.length).toBe(400)
})
`,
    passing: `${header({}, ['expect', 'test'])}
test('passes', () => { expect(1 + 1).toBe(2) })
`,
  }
}

/** Waits until `condition` holds, checking every 50 ms; throws after `withinMs`. */
export async function until(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not seen within ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Collects everything a running child process prints, stdout and stderr together. */
export function captureOutput(child: {
  stdout?: NodeJS.ReadableStream | null
  stderr?: NodeJS.ReadableStream | null
}): () => string {
  let output = ''
  const append = (chunk: Buffer | string) => {
    output += chunk
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  return () => output
}
