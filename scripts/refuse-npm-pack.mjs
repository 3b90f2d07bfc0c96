// `prepack` of every package: npm would pack package.json as it is, with `workspace:` and
// `catalog:` versions that no registry install understands. pnpm rewrites them in the
// tarball; npm does not. So packing or publishing goes through pnpm (`pnpm release`).
import { readFileSync } from 'node:fs'

// The tool running this script: npm sets npm_execpath to its own CLI even when an outer
// pnpm left its user agent in the environment.
const tool = process.env.npm_execpath ?? process.env.npm_config_user_agent ?? ''
const isPnpm = /pnpm/.test(tool.split('/').at(-1) ?? '')
const manifest = JSON.parse(readFileSync('package.json', 'utf8'))
const local = ['dependencies', 'peerDependencies', 'optionalDependencies']
  .flatMap((field) => Object.entries(manifest[field] ?? {}))
  .filter(([, version]) => /^(workspace|catalog):/.test(version))
if (!isPnpm && local.length > 0) {
  const names = local.map(([name, version]) => `${name}@${version}`).join(', ')
  console.error(
    `${manifest.name}: refusing to pack with npm: ${names} would reach the tarball as is, and npm cannot install that. From the repository root, run \`npx --yes pnpm@10.34.8 release\` (or \`pnpm pack\` in this directory).`,
  )
  process.exit(1)
}
