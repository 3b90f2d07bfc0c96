import { describe, expect, it } from 'vitest'
import { readDocblockOverrides } from './docblock.js'

describe('readDocblockOverrides', () => {
  it('reads key=value pairs after @nsbox in the first block comment', () => {
    const source =
      '/**\n * Big file.\n * @nsbox memory=1G network=host\n * @nsbox timeout=2m\n */\nimport x from "y"\n'
    expect(readDocblockOverrides(source)).toEqual([
      ['memory', '1G'],
      ['network', 'host'],
      ['timeout', '2m'],
    ])
  })

  it('accepts a one-line docblock after a shebang and line comments', () => {
    const source = '#!/usr/bin/env node\n// eslint-disable\n/** @nsbox pids=64 */\ntest()'
    expect(readDocblockOverrides(source)).toEqual([['pids', '64']])
  })

  it('ignores a docblock that is not at the top, and files without one', () => {
    expect(readDocblockOverrides('import x from "y"\n/** @nsbox memory=1G */')).toEqual([])
    expect(readDocblockOverrides('test("a", () => {})')).toEqual([])
  })

  it('keeps a key without a value so that validation can name it', () => {
    expect(readDocblockOverrides('/** @nsbox memory */')).toEqual([['memory', '']])
  })

  it('reads files with CRLF or CR line ends alike', () => {
    const source =
      '#!/usr/bin/env node\r\n// x\r\n/**\r\n * @nsbox memory=1G\r\n * @nsbox pids=8\r\n */\r\n'
    expect(readDocblockOverrides(source)).toEqual([
      ['memory', '1G'],
      ['pids', '8'],
    ])
    expect(readDocblockOverrides('/**\r * @nsbox timeout=2m\r */\r')).toEqual([['timeout', '2m']])
  })
})
