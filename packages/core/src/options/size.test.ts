import { describe, expect, it } from 'vitest'
import { formatSize, parseSize } from './size.js'

describe('parseSize', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['64k', 64 * 1024],
    ['2T', 2 * 1024 ** 4],
    ['512MiB', 512 * 1024 ** 2],
    ['512MB', 512 * 1024 ** 2],
    ['4096', 4096],
    [' 1G ', 1024 ** 3],
    [1048576, 1048576],
  ])('%j → %d bytes', (input, bytes) => {
    expect(parseSize('memory', input)).toBe(bytes)
  })

  it.each(['banana', '', '-1M', '1X', '1.2.3G', 0, -5, 1.5, Number.NaN, null, {}, ['1G']])(
    'refuses %j',
    (input) => {
      expect(() => parseSize('memory', input)).toThrowError(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'memory' }),
      )
    },
  )

  it('names the option, the value and the accepted forms', () => {
    expect(() => parseSize('memory', 'banana')).toThrowError(
      'nsbox: Expected the `memory` option to be a size such as "512M", "1.5G" or a number of bytes, got `"banana"` (string).',
    )
  })
})

describe('formatSize', () => {
  it.each([
    [268435456, '256 MiB'],
    [1610612736, '1.5 GiB'],
    [512, '512 bytes'],
  ])('%d → %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text)
  })
})
