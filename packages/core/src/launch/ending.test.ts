import { describe, expect, it } from 'vitest'
import type { UsernsHostSettings } from '../probe/userns-diagnosis.js'
import { ControlLineReader, parseControlLine } from './control-messages.js'
import { interpretEnding, type LaunchEnding } from './ending.js'
import { formatCommand } from './result.js'

const base: LaunchEnding = {
  file: 'node',
  messages: [],
  launcherExitCode: 0,
  launcherSignal: null,
  launcherOutput: '',
  terminatedFor: null,
  killedBy: null,
  killedWith: null,
  commandPath: '/usr/bin:/bin',
}
const settings = (): UsernsHostSettings => ({
  apparmorRestrict: 1,
  unprivilegedUsernsClone: undefined,
  maxUserNamespaces: 100,
  inContainer: false,
})
const mustNotRead = (): UsernsHostSettings => {
  throw new Error('settings are only read when unshare failed')
}

describe('interpretEnding', () => {
  it('an exit code reported by the init', () => {
    expect(
      interpretEnding({ ...base, messages: [{ type: 'exit', code: 3 }] }, mustNotRead),
    ).toEqual({ exitCode: 3, signal: null, killedBy: null })
  })

  it('a signal reported by the init, by name', () => {
    expect(
      interpretEnding({ ...base, messages: [{ type: 'signal', signal: 15 }] }, mustNotRead),
    ).toEqual({ exitCode: null, signal: 'SIGTERM', killedBy: null })
  })

  it('a limit the cgroup counted stays on the reported ending', () => {
    const messages = [
      { type: 'cpu' as const, milliseconds: 5 },
      { type: 'signal' as const, signal: 9 },
    ]
    expect(interpretEnding({ ...base, messages, killedBy: 'memory' }, mustNotRead)).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      killedBy: 'memory',
    })
  })

  it('an OOM kill of the init itself still ends as the memory limit, not a setup error', () => {
    const ending = { ...base, launcherExitCode: 1, killedBy: 'memory' as const }
    expect(interpretEnding(ending, mustNotRead)).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      killedBy: 'memory',
    })
  })

  it('a timeout: nsbox killed it, whatever the launcher says', () => {
    expect(
      interpretEnding(
        { ...base, launcherExitCode: null, launcherSignal: 'SIGKILL', terminatedFor: 'timeout' },
        mustNotRead,
      ),
    ).toEqual({
      exitCode: null,
      signal: 'SIGKILL',
      killedBy: 'timeout',
    })
  })

  it('a timeout that fired as the command exited by itself: the exit stands, no limit ended it', () => {
    const ending = {
      ...base,
      messages: [{ type: 'exit' as const, code: 0 }],
      launcherSignal: 'SIGKILL' as const,
      terminatedFor: 'timeout' as const,
    }
    expect(interpretEnding(ending, mustNotRead)).toEqual({
      exitCode: 0,
      signal: null,
      killedBy: null,
    })
  })

  it('a failed setup step names the step and the errno', () => {
    const error = interpretEnding(
      { ...base, messages: [{ type: 'setup-error', step: 'tmpfs /tmp', errno: 1 }] },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_SETUP_FAILED', step: 'tmpfs /tmp' })
    expect((error as Error).message).toMatch(
      /^nsbox: setting up the sandbox failed at step `tmpfs \/tmp` \(EPERM\)\./,
    )
  })

  it('a fork refused under a pids limit is the option, not the host', () => {
    const error = interpretEnding(
      { ...base, messages: [{ type: 'setup-error', step: 'fork', errno: 11 }], pidsLimit: 2 },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_SETUP_FAILED', step: 'fork' })
    expect((error as Error).message).toBe(
      "nsbox: the command could not be started: the `pids` limit of 2 left no room to fork it (EAGAIN). Raise `pids`: the sandbox's init and the command count, and so does every thread.",
    )
  })

  it('names the option whose path a setup step failed on, instead of blaming the host', () => {
    const error = interpretEnding(
      {
        ...base,
        messages: [{ type: 'setup-error', step: 'hold /home/me/project/sub', errno: 40 }],
        optionOf: (path) => (path === '/home/me/project/sub' ? 'ro' : undefined),
      },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_SETUP_FAILED', step: 'hold /home/me/project/sub' })
    expect((error as Error).message).toMatch(
      /^nsbox: could not set up the `ro` path \/home\/me\/project\/sub \(ELOOP\): a symbolic link took its place/,
    )
    expect((error as Error).message).not.toMatch(/doctor/)
  })

  it('a command not found names the PATH searched', () => {
    const error = interpretEnding(
      { ...base, messages: [{ type: 'exec-error', errno: 2 }] },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_EXEC_FAILED', errno: 'ENOENT' })
    expect((error as Error).message).toContain('Looked in PATH=/usr/bin:/bin')
  })

  it('unshare failing: diagnosed from its message and the host settings', () => {
    const error = interpretEnding(
      {
        ...base,
        launcherExitCode: 1,
        launcherOutput: 'unshare: write failed /proc/self/uid_map: Operation not permitted\n',
      },
      settings,
    )
    expect(error).toMatchObject({ code: 'ERR_USERNS_BLOCKED', blockedBy: 'apparmor' })
  })

  it('the launcher or the init killed from outside after the command started: a SIGKILL ending', () => {
    for (const ending of [
      { launcherExitCode: null, launcherSignal: 'SIGKILL' as const },
      {
        launcherExitCode: 1,
        launcherOutput: 'unshare: sigprocmask unblock failed: Invalid argument\n',
      },
    ]) {
      expect(
        interpretEnding({ ...base, ...ending, messages: [{ type: 'started' }] }, mustNotRead),
      ).toEqual({ exitCode: null, signal: 'SIGKILL', killedBy: null })
    }
  })

  it('the init killed from outside before the command started: not a user-namespace failure', () => {
    const error = interpretEnding(
      {
        ...base,
        launcherExitCode: 1,
        launcherOutput: 'unshare: sigprocmask unblock failed: Invalid argument\n',
      },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_SETUP_FAILED', step: 'launch' })
    expect((error as Error).message).toBe(
      'nsbox: the sandbox ended before its command started: its init (PID 1) was killed by SIGKILL (unshare: sigprocmask unblock failed: Invalid argument). Something outside nsbox killed it: another process, an OOM killer, or a user.',
    )
  })

  it('unshare unable to fork the init: the resource that ran out, not user namespaces', () => {
    const error = interpretEnding(
      {
        ...base,
        launcherExitCode: 1,
        launcherOutput: 'unshare: fork failed: Resource temporarily unavailable\n',
      },
      mustNotRead,
    )
    expect(error).toMatchObject({
      code: 'ERR_RESOURCE_EXHAUSTED',
      resource: 'processes',
      errno: 'EAGAIN',
    })
  })

  it('an early end without any report', () => {
    const error = interpretEnding(
      { ...base, launcherExitCode: 122, launcherOutput: '' },
      mustNotRead,
    )
    expect(error).toMatchObject({ code: 'ERR_SETUP_FAILED', step: 'launch' })
  })
})

describe('control lines', () => {
  it('parses each kind and ignores unknown lines', () => {
    expect(parseControlLine('started')).toEqual({ type: 'started' })
    expect(parseControlLine('exit 0')).toEqual({ type: 'exit', code: 0 })
    expect(parseControlLine('cpu 1250')).toEqual({ type: 'cpu', milliseconds: 1250 })
    expect(parseControlLine('error bind /tmp/a b\t13')).toEqual({
      type: 'setup-error',
      step: 'bind /tmp/a b',
      errno: 13,
    })
    expect(parseControlLine('hello')).toBeUndefined()
  })

  it('reassembles lines split across chunks', () => {
    const reader = new ControlLineReader()
    reader.push('ex')
    reader.push('it 4\nsig')
    expect(reader.messages).toEqual([{ type: 'exit', code: 4 }])
  })
})

describe('formatCommand', () => {
  it('quotes what a shell would split', () => {
    expect(formatCommand('sh', ['-c', "echo 'hi' there"])).toBe(`sh -c 'echo '\\''hi'\\'' there'`)
    expect(formatCommand('node', ['--test', 'a/b.js'])).toBe('node --test a/b.js')
  })
})
