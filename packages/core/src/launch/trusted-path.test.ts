import { mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { dir } from 'tmp-promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTrustedPath } from './trusted-path.js'

describe('resolveTrustedPath', () => {
  let scratch: Awaited<ReturnType<typeof dir>>
  beforeAll(async () => {
    scratch = await dir({ unsafeCleanup: true })
    mkdirSync(path.join(scratch.path, 'real'))
    symlinkSync(path.join(scratch.path, 'real'), path.join(scratch.path, 'planted'))
  })
  afterAll(() => scratch.cleanup())

  it('gives a path without links back as it is, with . and .. resolved', () => {
    const real = path.join(scratch.path, 'real')
    expect(resolveTrustedPath('ro', `${scratch.path}/./real/../real`)).toBe(real)
  })

  it('refuses a link in a directory this user can write, naming it and what it stands for', () => {
    const through = path.join(scratch.path, 'planted')
    expect(() => resolveTrustedPath('rw', `${through}/inner`)).toThrowError(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        option: 'rw',
        message: expect.stringContaining(
          `passes through the symbolic link ${through}, in a directory this user can write`,
        ),
      }),
    )
  })

  it('resolves a hide path through any link: hiding hides what it points to', () => {
    const real = path.join(scratch.path, 'real')
    expect(resolveTrustedPath('hide', path.join(scratch.path, 'planted'))).toBe(real)
  })

  it('says when a path does not exist', () => {
    expect(() => resolveTrustedPath('hide', `${scratch.path}/missing/file`)).toThrowError(
      /The `hide` path .*missing\/file does not exist/,
    )
  })
})
