import { describe, expect, it } from 'vitest'
import { asRootCommand, shellQuote } from './fix-command.js'

describe('asRootCommand', () => {
  const argv = [
    '/usr/bin/node',
    '/srv/my project/node_modules/@nsbox/core/dist/cli/main.js',
    'delegate',
  ]

  it('runs as it is for root, through sudo where there is one, else through su', () => {
    const quoted = `/usr/bin/node '/srv/my project/node_modules/@nsbox/core/dist/cli/main.js' delegate`
    expect(asRootCommand(argv, { isRoot: true, hasSudo: true })).toBe(quoted)
    expect(asRootCommand(argv, { isRoot: false, hasSudo: true })).toBe(`sudo ${quoted}`)
    expect(asRootCommand(argv, { isRoot: false, hasSudo: false })).toBe(
      `su root -c '/usr/bin/node '\\''/srv/my project/node_modules/@nsbox/core/dist/cli/main.js'\\'' delegate'`,
    )
  })

  it('leaves the placeholder for the user to fill in', () => {
    expect(asRootCommand(['nsbox', '--'], { isRoot: false, hasSudo: true }, '<command>')).toBe(
      'sudo nsbox -- <command>',
    )
  })
})

describe('shellQuote', () => {
  it('quotes only words a shell would split or expand', () => {
    expect(shellQuote('--user')).toBe('--user')
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`)
  })
})
