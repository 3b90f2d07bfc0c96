import { expect, it } from 'vitest'
import { parseCommandFlags } from './flags.js'

const doctorFlags = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const

it('a command that takes no words refuses unknown flags and stray words alike', () => {
  const parse = (argv: string[]) =>
    parseCommandFlags('doctor', argv, doctorFlags, { allowPositionals: false })
  expect(parse(['--json']).values).toEqual({ json: true })
  expect(parse(['-h']).values).toEqual({ help: true })
  expect(() => parse(['--bogus'])).toThrowError(
    expect.objectContaining({
      code: 'ERR_INVALID_OPTION',
      message: 'nsbox doctor: unknown flag --bogus. See `nsbox doctor --help`.',
    }),
  )
  expect(() => parse(['--jsn'])).toThrowError('Did you mean --json?')
  expect(() => parse(['now'])).toThrowError('`doctor` takes no argument `now`')
})
