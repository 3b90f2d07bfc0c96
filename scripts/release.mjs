// pnpm release [--dry-run]: builds the packages, packs each with pnpm (which turns
// `workspace:` and `catalog:` into real versions), checks every tarball, and publishes
// them to npm in dependency order. --dry-run stops after the checks and prints where
// the tarballs are.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const isDryRun = process.argv.includes('--dry-run')
const PNPM = ['--yes', 'pnpm@10.34.8']
// Publishing order: what the others depend on first.
const PACKAGES = ['core', 'vitest-plugin', 'jest-env']
const REQUIRED_FILES = ['package/package.json', 'package/LICENSE', 'package/README.md']
const out = path.join(root, '.cache', 'release')

const run = (file, args, options = {}) =>
  execFileSync(file, args, { cwd: root, encoding: 'utf8', ...options })

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
run('npx', [...PNPM, 'build'], { stdio: 'inherit' })

const tarballs = PACKAGES.map((name) => {
  const dir = path.join(root, 'packages', name)
  const before = new Set(readdirSync(out))
  run('npx', [...PNPM, 'pack', '--pack-destination', out], { cwd: dir, stdio: 'ignore' })
  const made = readdirSync(out).find((file) => !before.has(file))
  if (!made) throw new Error(`release: pnpm pack made no tarball for packages/${name}`)
  return path.join(out, made)
})

const problems = tarballs.flatMap(checkTarball)
if (problems.length > 0) {
  console.error(`release: not publishing:\n${problems.map((line) => `  - ${line}`).join('\n')}`)
  process.exit(1)
}
if (isDryRun) {
  console.log(`release: checked ${tarballs.length} tarballs:\n${tarballs.join('\n')}`)
  process.exit(0)
}
for (const tarball of tarballs) {
  run('npm', ['publish', tarball, '--access', 'public'], { stdio: 'inherit' })
}

function checkTarball(tarball) {
  const name = path.basename(tarball)
  const listing = run('tar', ['-tzf', tarball]).split('\n')
  const missing = REQUIRED_FILES.filter((file) => !listing.includes(file))
  const manifest = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json']))
  const local = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']
    .flatMap((field) => Object.entries(manifest[field] ?? {}))
    .filter(([, version]) => /^(workspace|catalog|file|link):/.test(version))
  const maps = listing.filter((file) => file.endsWith('.js.map'))
  const unresolved = maps.filter((map) => {
    const sources = JSON.parse(run('tar', ['-xzOf', tarball, map])).sources ?? []
    return sources.some((source) => !listing.includes(path.join(path.dirname(map), source)))
  })
  return [
    ...missing.map((file) => `${name}: ${file} is missing`),
    ...local.map(([dep, version]) => `${name}: ${dep} is still ${version}`),
    ...unresolved.map((map) => `${name}: ${map} points at sources the tarball lacks`),
  ]
}
