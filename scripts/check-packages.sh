#!/usr/bin/env bash
# pnpm check:packages: what a new user gets from the registry. Packs every package the way
# `pnpm release` does, installs the tarballs with npm into fresh Vitest and Jest projects
# outside the workspace, and runs a sandboxed test in each, as an unprivileged user when
# run as root. Also checks that npm itself refuses to pack a package directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
user=${NSBOX_TEST_USER:-nsbox-test}

echo "--- npm pack in a package directory is refused"
if (cd "$repo/packages/core" && npm pack --dry-run >/dev/null 2>"$repo/.cache/npm-pack.log"); then
  echo "check:packages: npm pack of packages/core succeeded, but its tarball would keep catalog: versions" >&2
  exit 1
fi
grep -q 'pnpm@10.34.8 release' "$repo/.cache/npm-pack.log"

echo "--- pack and check the tarballs"
node "$repo/scripts/release.mjs" --dry-run
tarballs=("$repo"/.cache/release/*.tgz)

work=$(mktemp -d /var/tmp/nsbox-packages-XXXXXX)
trap 'rm -rf "$work"' EXIT
vitest_version=$(node -p "require('$repo/node_modules/vitest/package.json').version")
jest_version=$(node -p "require('$repo/node_modules/jest/package.json').version")

mkdir -p "$work/vitest/test" "$work/jest/test"
cat >"$work/vitest/vitest.config.mjs" <<'CONFIG'
import { sandbox } from '@nsbox/vitest-plugin'
import { defineConfig } from 'vitest/config'
export default defineConfig({ test: { pool: sandbox({ memory: '512M' }) } })
CONFIG
cat >"$work/jest/jest.config.cjs" <<'CONFIG'
module.exports = { runner: '@nsbox/jest-env', testMatch: ['**/test/*.test.cjs'] }
CONFIG
cat >"$work/vitest/test/sandboxed.test.mjs" <<'TEST'
import os from 'node:os'
import { expect, test } from 'vitest'
test('runs in a sandbox', () => expect(os.hostname()).toBe('nsbox'))
TEST
cat >"$work/jest/test/sandboxed.test.cjs" <<'TEST'
const os = require('node:os')
test('runs in a sandbox', () => expect(os.hostname()).toBe('nsbox'))
TEST

for project in vitest jest; do
  echo "--- npm install into a fresh $project project"
  cd "$work/$project"
  echo '{ "private": true }' >package.json
  runner="vitest@$vitest_version"
  [ "$project" = jest ] && runner="jest@$jest_version"
  npm install --no-audit --no-fund --loglevel=error "${tarballs[@]}" "$runner" >/dev/null
done

as_user() {
  if [ "$(id -u)" = 0 ]; then
    chown -R "$user" "$work"
    setpriv --reuid "$user" --regid "$user" --clear-groups env HOME="$(getent passwd "$user" | cut -d: -f6)" "$@"
  else
    "$@"
  fi
}
echo "--- a sandboxed test in each"
(cd "$work/vitest" && as_user ./node_modules/.bin/vitest run)
(cd "$work/jest" && as_user ./node_modules/.bin/jest)

# A runner version the integration does not support must stop the run at once, naming
# the version, never run the files unsandboxed.
refuses() {
  local project=$1 runner=$2 command=$3
  echo "--- $runner: refused loudly"
  mkdir -p "$work/$project"
  cp -r "$work/${project%%-*}/test" "$work/${project%%-*}/"*.config.* "$work/$project/"
  cd "$work/$project"
  echo '{ "private": true }' >package.json
  # npm itself refuses the peer range; pnpm and yarn only warn, and --legacy-peer-deps goes on.
  npm install --no-audit --no-fund --loglevel=error --legacy-peer-deps "${tarballs[@]}" "$runner" >/dev/null
  local version=${runner##*@}
  if as_user ./node_modules/.bin/$command >"$work/$project.log" 2>&1; then
    cat "$work/$project.log"
    echo "check:packages: $runner ran its tests, though the integration does not support it" >&2
    exit 1
  fi
  grep -q "ERR_UNSUPPORTED_VERSION\|and this project has ${runner%@*} $version" "$work/$project.log" || {
    cat "$work/$project.log"
    echo "check:packages: $runner failed without saying that its version is unsupported" >&2
    exit 1
  }
}
refuses vitest-3 vitest@3.2.4 'vitest run'
refuses vitest-4.0.9 vitest@4.0.9 'vitest run'
refuses jest-28 jest@28.1.3 jest
echo "check:packages: the tarballs install with npm, sandbox Vitest and Jest test files, and refuse unsupported versions"
