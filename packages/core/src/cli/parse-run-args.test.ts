import { describe, expect, it } from 'vitest'
import { parseRunArgs } from './parse-run-args.js'
import { exitCodeOf } from './run-command.js'

describe('parseRunArgs', () => {
  it('splits flags from the command at --', () => {
    expect(
      parseRunArgs(['--network', 'none', '--timeout', '10s', '--json', '--', 'node', '--version']),
    ).toEqual({
      help: false,
      json: true,
      file: 'node',
      args: ['--version'],
      options: { network: 'none', timeout: '10s' },
    })
  })

  it('passes limits on for validation', () => {
    expect(
      parseRunArgs([
        '--memory',
        '64M',
        '--pids',
        '16',
        '--cpus',
        '0.5',
        '--enforce',
        'strict',
        '--',
        'true',
      ]).options,
    ).toEqual({ memory: '64M', pids: 16, cpus: 0.5, enforce: 'strict' })
  })

  it('collects repeated path and --env flags, and the policy switches', () => {
    expect(
      parseRunArgs([
        '--ro',
        '/opt',
        '--rw',
        'out',
        '--rw',
        'cache',
        '--hide',
        '/srv',
        '--read-only',
        '--clear-env',
        '--untrusted',
        '--env',
        'A=1',
        '--env',
        'B=x=y',
        '--',
        'true',
      ]).options,
    ).toEqual({
      ro: ['/opt'],
      rw: ['out', 'cache'],
      hide: ['/srv'],
      readOnly: true,
      clearEnv: true,
      untrusted: true,
      env: { A: '1', B: 'x=y' },
    })
    expect(() => parseRunArgs(['--env', 'NOVALUE', '--', 'true'])).toThrowError(/KEY=VALUE/)
  })

  it('turns the seccomp filter on or off, never both', () => {
    expect(parseRunArgs(['--seccomp', '--', 'true']).options).toEqual({ seccomp: true })
    expect(parseRunArgs(['--untrusted', '--no-seccomp', '--', 'true']).options).toEqual({
      untrusted: true,
      seccomp: false,
    })
    expect(() => parseRunArgs(['--seccomp', '--no-seccomp', '--', 'true'])).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'seccomp' }),
    )
  })

  it('refuses unknown flags, a missing command and non-numeric counts', () => {
    expect(() => parseRunArgs(['--netwrk', 'none', '--', 'true'])).toThrowError(
      'nsbox run: unknown flag --netwrk. Did you mean --network? See `nsbox run --help`.',
    )
    expect(() => parseRunArgs(['--network', 'none'])).toThrowError(/no command given/)
    expect(() => parseRunArgs(['--pids', 'lots', '--', 'true'])).toThrowError(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'pids' }),
    )
  })

  it("says what is wrong with a flag in nsbox's own words, never to put it after --", () => {
    const message = (argv: string[]) => {
      try {
        parseRunArgs(argv)
      } catch (error) {
        return (error as Error).message
      }
      return 'no error'
    }
    expect(message(['--frobnicate', '--', 'true'])).toBe(
      'nsbox run: unknown flag --frobnicate. See `nsbox run --help`.',
    )
    expect(message(['--json=yes', '--', 'true'])).toBe(
      'nsbox run: --json is a switch and takes no value. See `nsbox run --help`.',
    )
    expect(message(['--memory'])).toBe('nsbox run: --memory needs a value. See `nsbox run --help`.')
    // The command's own flag, written before the `--` that ends nsbox's.
    expect(message(['ls', '-la'])).toBe(
      'nsbox run: unknown flag -la. If it is an argument of the command, put the command after `--`: nsbox run [flags] -- ls -la. See `nsbox run --help`.',
    )
    for (const argv of [['--netwrk', 'x'], ['--frobnicate'], ['--json=yes']]) {
      expect(message([...argv, '--', 'true'])).not.toMatch(/after '--'|-- "--/)
    }
  })

  it('takes a value that starts with a dash as the value, for the option to judge', () => {
    expect(parseRunArgs(['--memory', '-5M', '--', 'true']).options).toEqual({ memory: '-5M' })
    expect(parseRunArgs(['--timeout=-1s', '--', 'true']).options).toEqual({ timeout: '-1s' })
  })

  it('--help needs no command', () => {
    expect(parseRunArgs(['--help']).help).toBe(true)
  })
})

describe('exitCodeOf', () => {
  const result = {
    command: 'x',
    killedBy: null,
    duration: 1,
    cpuTime: 0,
    memoryPeak: null,
    pidsPeak: null,
    enforcement: {},
    stdout: '',
    stderr: '',
    truncated: false,
  }
  it('passes the exit code on, or 128+N for signal N', () => {
    expect(exitCodeOf({ ...result, exitCode: 3, signal: null })).toBe(3)
    expect(exitCodeOf({ ...result, exitCode: null, signal: 'SIGKILL' })).toBe(137)
    expect(exitCodeOf({ ...result, exitCode: null, signal: 'SIGTERM' })).toBe(143)
  })
})
