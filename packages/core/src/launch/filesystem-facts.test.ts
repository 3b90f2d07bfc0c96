import { describe, expect, it } from 'vitest'
import { socketPathsFromProcNetUnix, withoutCoveredHides } from './filesystem-facts.js'

describe('socketPathsFromProcNetUnix', () => {
  it('lists the filesystem sockets, once each, and leaves out abstract and unnamed ones', () => {
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 20570 /run/systemd/private',
      '0000000000000000: 00000002 00000000 00010000 0001 01 30000 @/tmp/.X11-unix/X0',
      '0000000000000000: 00000003 00000000 00000000 0001 03 30001',
      '0000000000000000: 00000002 00000000 00010000 0001 01 20571 /run/docker.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 20572 /run/docker.sock',
      '',
    ].join('\n')
    expect(socketPathsFromProcNetUnix(table)).toEqual(['/run/systemd/private', '/run/docker.sock'])
  })

  it('keeps a path with spaces whole', () => {
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 20570 /home/me/my agent/s.sock',
    ].join('\n')
    expect(socketPathsFromProcNetUnix(table)).toEqual(['/home/me/my agent/s.sock'])
  })
})

describe('withoutCoveredHides', () => {
  const dir = (path: string) => ({ path, isDirectory: true })
  const file = (path: string) => ({ path, isDirectory: false })

  it('drops what a hidden directory already covers, and keeps what a visible path brings back', () => {
    const hide = [dir('/home/me'), dir('/home/me/.ssh'), file('/home/me/work/.env'), dir('/srv')]
    expect(withoutCoveredHides(hide, ['/home/me/work'])).toEqual([
      dir('/home/me'),
      file('/home/me/work/.env'),
      dir('/srv'),
    ])
    expect(withoutCoveredHides(hide, [])).toEqual([dir('/home/me'), dir('/srv')])
  })
})
