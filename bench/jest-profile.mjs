// Where a test file's process spends its CPU: one file of a suite run on the nsbox runner
// with V8's CPU profiler on (Jest's processes inherit `--cpu-prof`), the file's process
// profile summed up by what each sample was doing.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { JEST, JEST_SUITES, jestArguments, writeJestProject } from './jest-suites.mjs'
import { timeNodeRun } from './support.mjs'

// What a sample was doing, by the first rule its frame matches.
const ACTIVITIES = [
  ['idle', ({ functionName }) => functionName === '(idle)'],
  ['compiling JavaScript', ({ functionName }) => /compile|wrapSafe/i.test(functionName)],
  ['garbage collection', ({ functionName }) => functionName === '(garbage collector)'],
  [
    'finding and reading modules',
    ({ url, functionName }) =>
      /^node:(fs|path|internal\/modules|internal\/fs)|jest-resolve|graceful-fs/.test(url) ||
      /^(realpath|lstat|stat|internalModuleStat|readFileUtf8|readPackageJSON|open|read|close)$/.test(
        functionName,
      ),
  ],
  ['TypeScript and ts-jest', ({ url }) => /\/(typescript|ts-jest)\//.test(url)],
  ['Babel', ({ url }) => /\/(@babel\/|babel-|browserslist|caniuse-lite)/.test(url)],
  [
    "Jest's runtime, test framework and environment",
    ({ url }) => /\/(jest-[^/]+|@jest\/[^/]+|expect|pretty-format)\//.test(url),
  ],
  ['the rest of Node.js', ({ url }) => url === '' || url.startsWith('node:')],
  ['the rest', () => true],
]

/** Profiles one file's process of each suite; returns the CPU ms of each activity. */
export function measureJestProfile({ suites, progress }) {
  return Object.fromEntries(
    suites.map((suite) => {
      progress(suite)
      return [suite, profileOneFile(suite)]
    }),
  )
}

function profileOneFile(suite) {
  const { root, configFiles } = writeJestProject(JEST_SUITES[suite], 1)
  const profiles = path.join(root, 'profiles')
  const run = (extra, nodeFlags = []) =>
    timeNodeRun(
      suite,
      [...nodeFlags, ...jestArguments(root, configFiles[JEST.nsbox], 1, extra)],
      root,
    )
  try {
    run([]) // fills Jest's caches, as in the suites' measured rounds
    run([], ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--cpu-prof-interval=250'])
    const profile = readdirSync(profiles)
      .map((file) => JSON.parse(readFileSync(path.join(profiles, file), 'utf8')))
      .find((each) => each.nodes.some((node) => node.callFrame.url.endsWith('/child.js')))
    if (!profile) throw new Error("no profile of the test file's process was written")
    return summarize(profile)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

function summarize({ nodes, samples, timeDeltas }) {
  const frames = new Map(nodes.map((node) => [node.id, node.callFrame]))
  const activityOf = new Map()
  const ms = Object.fromEntries(ACTIVITIES.map(([name]) => [name, 0]))
  samples.forEach((id, index) => {
    if (!activityOf.has(id)) {
      const frame = frames.get(id)
      activityOf.set(id, ACTIVITIES.find(([, matches]) => matches(frame))[0])
    }
    ms[activityOf.get(id)] += (timeDeltas[index] ?? 0) / 1000
  })
  delete ms.idle
  return { activities: ms, cpuMs: Object.values(ms).reduce((sum, each) => sum + each, 0) }
}
