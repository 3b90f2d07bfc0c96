// What the test files of the benchmark suites do, for Vitest and Jest alike.

/** The body of a trivial test. */
export const trivialTest = (i) =>
  `test('trivial ${i}', () => { expect(${i} + 1).toBe(${i + 1}) })\n`

/** The modules a test of {@link workTest} uses, as `[name, module]`. */
export const WORK_MODULES = [
  ['{ readFileSync, rmSync, writeFileSync }', 'node:fs'],
  ['os', 'node:os'],
  ['path', 'node:path'],
]

/**
 * A test of about 300 ms of real work: about 120 ms of computing, 32 MiB written to `/tmp`
 * and read back, and a 150 ms wait standing for a request to a server.
 */
export const workTest = (i) =>
  [
    `test('works ${i}', async () => {`,
    '  let sum = 0',
    '  for (const end = Date.now() + 120; Date.now() < end; ) sum += Math.sqrt(sum + 1)',
    `  const file = path.join(os.tmpdir(), 'work-${i}-' + process.pid)`,
    '  for (let round = 0; round < 4; round++) {',
    '    writeFileSync(file, Buffer.alloc(8 << 20, round))',
    '    sum += readFileSync(file)[0]',
    '  }',
    '  rmSync(file)',
    '  await new Promise((resolve) => setTimeout(resolve, 150))',
    '  expect(sum).toBeGreaterThan(0)',
    '})',
    '',
  ].join('\n')

/** A typed test of the `add` of {@link ADD_SOURCE}. */
export const typedTest = (i) =>
  [
    "import { add } from '../src/add'",
    '',
    `test('adds ${i}', () => {`,
    `  const sum: number = add(${i}, 1)`,
    `  expect(sum).toBe(${i + 1})`,
    '})',
    '',
  ].join('\n')

/** `src/add.ts`, which {@link typedTest} imports. */
export const ADD_SOURCE = 'export function add(a: number, b: number): number {\n  return a + b\n}\n'
