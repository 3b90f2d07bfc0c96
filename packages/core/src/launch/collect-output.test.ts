import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { collectOutput, wholeCharacters } from './collect-output.js'

describe('collectOutput', () => {
  it('never cuts a UTF-8 character in half at maxOutput', async () => {
    const output = () => Readable.from([Buffer.from('éé€😀')])
    expect(await collectOutput(output(), 1)).toEqual({ text: '', truncated: true })
    expect(await collectOutput(output(), 3)).toEqual({ text: 'é', truncated: true })
    expect(await collectOutput(output(), 6)).toEqual({ text: 'éé', truncated: true })
    expect(await collectOutput(output(), 10)).toEqual({ text: 'éé€', truncated: true })
    expect(await collectOutput(output(), 11)).toEqual({ text: 'éé€😀', truncated: false })
  })

  it('keeps characters split across chunks below the budget', async () => {
    const bytes = Buffer.from('é')
    const stream = Readable.from([bytes.subarray(0, 1), bytes.subarray(1)])
    expect(await collectOutput(stream, 16)).toEqual({ text: 'é', truncated: false })
  })
})

it('wholeCharacters leaves ASCII and complete characters as they are', () => {
  expect(wholeCharacters(Buffer.from('abc')).toString()).toBe('abc')
  expect(wholeCharacters(Buffer.from('a€')).toString()).toBe('a€')
  expect(wholeCharacters(Buffer.from('a€').subarray(0, 3)).toString()).toBe('a')
})
