import { describe, expect, it } from 'vitest'
import { parseDelegateArgs } from './delegate-command.js'

describe('parseDelegateArgs', () => {
  it('reads the user and the command after --', () => {
    expect(parseDelegateArgs(['--user', 'ci', '--', 'pnpm', 'test'])).toEqual({
      help: false,
      user: 'ci',
      undo: false,
      command: ['pnpm', 'test'],
    })
    expect(parseDelegateArgs(['--user=ci', '--undo']).undo).toBe(true)
  })

  it('rejects a missing user, a command with --undo, and an empty command', () => {
    const invalid = (option: string) =>
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option })
    expect(() => parseDelegateArgs([])).toThrowError(invalid('user'))
    expect(() => parseDelegateArgs(['--user', 'ci', '--undo', '--', 'true'])).toThrowError(
      invalid('undo'),
    )
    expect(() => parseDelegateArgs(['--user', 'ci', '--'])).toThrowError(invalid('argv'))
    expect(() => parseDelegateArgs(['--usr', 'ci'])).toThrowError(invalid('argv'))
  })
})
