import { describe, expect, it } from 'vitest'
import { selectTmpBinds, tmpBindCandidates } from './tmp-binds.js'

describe('selectTmpBinds', () => {
  it('keeps the top-level /tmp entry of each candidate, once', () => {
    expect(
      selectTmpBinds(['/tmp/project/packages/app', '/tmp/project/node_modules', '/tmp/script.js']),
    ).toEqual(['/tmp/project', '/tmp/script.js'])
  })

  it('ignores paths outside /tmp and never binds /tmp itself back', () => {
    expect(selectTmpBinds(['/home/me/project', '/tmp', '/tmpfoo/x', '/var/tmp/x'])).toEqual([])
  })
})

describe('tmpBindCandidates', () => {
  it('looks at the cwd, a command given by path, and absolute arguments', () => {
    expect(
      tmpBindCandidates({
        file: './run.sh',
        args: ['-v', '/tmp/in.txt', 'relative.txt'],
        cwd: '/tmp/w',
      }),
    ).toEqual(['/tmp/w', '/tmp/w/run.sh', '/tmp/in.txt'])
  })

  it('does not treat a bare command name as a path', () => {
    expect(tmpBindCandidates({ file: 'node', args: [], cwd: '/srv' })).toEqual(['/srv'])
  })
})
