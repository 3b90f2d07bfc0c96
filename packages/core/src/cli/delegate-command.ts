import { execFileSync, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { constants } from 'node:os'
import {
  type DelegateUser,
  delegateV1,
  delegateV2,
  isCgroupV1Host,
  moveProcess,
  removeTree,
  undelegateV1,
} from '../cgroup/delegate.js'
import { readCurrentCgroups } from '../cgroup/layout.js'
import {
  InvalidOptionError,
  isSandboxError,
  MissingToolError,
  SetupFailedError,
} from '../errors.js'
import { findExecutable } from '../probe/tools.js'
import { parseCommandFlags } from './flags.js'
import { DELEGATE_HELP } from './help.js'

/** What `nsbox delegate` was asked to do. */
export interface DelegateCommandLine {
  help: boolean
  user: string
  undo: boolean
  command: string[]
}

/** Parses `nsbox delegate`'s arguments. Pure; throws `ERR_INVALID_OPTION`. */
export function parseDelegateArgs(argv: readonly string[]): DelegateCommandLine {
  const separator = argv.indexOf('--')
  const flags = separator === -1 ? argv : argv.slice(0, separator)
  const command = separator === -1 ? [] : argv.slice(separator + 1)
  const values = parseCommandFlags(
    'delegate',
    flags,
    { user: { type: 'string' }, undo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    { allowPositionals: false },
  ).values as { user?: string; undo?: boolean; help?: boolean }
  if (values.help) return { help: true, user: '', undo: false, command: [] }
  if (!values.user) {
    throw new InvalidOptionError(
      'user',
      'nsbox delegate: --user is required. Usage: sudo nsbox delegate --user NAME [-- COMMAND...]',
    )
  }
  if (values.undo && command.length > 0) {
    throw new InvalidOptionError('undo', 'nsbox delegate: --undo takes no command.')
  }
  if (separator !== -1 && command.length === 0) {
    throw new InvalidOptionError('argv', 'nsbox delegate: no command after `--`.')
  }
  return { help: false, user: values.user, undo: values.undo ?? false, command }
}

/**
 * Carries out `nsbox delegate` (as root): hands a cgroup subtree to a user so that
 * the user's sandboxes get cgroup limits, and optionally runs a command as that user
 * inside it. Resolves with the exit code.
 */
export async function delegateCommand(argv: readonly string[]): Promise<number> {
  const commandLine = parseDelegateArgs(argv)
  if (commandLine.help) {
    process.stdout.write(DELEGATE_HELP)
    return 0
  }
  if (process.geteuid?.() !== 0) {
    throw new SetupFailedError(
      'delegate',
      `nsbox delegate changes cgroup ownership and needs root. Run: sudo nsbox delegate ${argv.join(' ')}`,
    )
  }
  const user = lookUpUser(commandLine.user)
  try {
    return await delegateFor(user, commandLine)
  } catch (error) {
    if (isSandboxError(error)) throw error
    // A system error of the cgroup filesystem (EACCES, EBUSY, ENOENT...), in nsbox's words.
    const { code, path } = error as NodeJS.ErrnoException
    throw new SetupFailedError(
      'delegate',
      `nsbox delegate: could not ${commandLine.undo ? 'undo the delegation of' : 'delegate'} cgroups ${commandLine.undo ? 'of' : 'to'} ${user.name}: ${code ?? (error as Error).message}${path ? ` on ${path}` : ''}. Run \`nsbox doctor\` to see this host's cgroups, and NSBOX_DEBUG=1 for each step.`,
      { cause: error },
    )
  }
}

async function delegateFor(user: DelegateUser, commandLine: DelegateCommandLine): Promise<number> {
  if (isCgroupV1Host()) {
    if (commandLine.undo) {
      const removed = await undelegateV1(user)
      process.stderr.write(`nsbox: removed ${removed.length ? removed.join(', ') : 'nothing'}\n`)
      return 0
    }
    const dirs = delegateV1(user)
    process.stderr.write(`nsbox: delegated to ${user.name}: ${dirs.join(', ')}\n`)
    return commandLine.command.length > 0 ? runAsUser(user, commandLine.command, null) : 0
  }
  if (commandLine.undo) return undoV2(user)
  if (commandLine.command.length === 0) {
    throw new InvalidOptionError(
      'argv',
      `nsbox delegate: on cgroup v2 a delegated subtree only serves the processes started inside it. Run the command that starts sandboxes through it: sudo nsbox delegate --user ${user.name} -- <command>`,
    )
  }
  const { dir, leaf } = delegateV2(user)
  return runAsUser(user, commandLine.command, { dir, leaf })
}

function lookUpUser(nameOrUid: string): DelegateUser {
  let entry: string
  try {
    entry = execFileSync('getent', ['passwd', nameOrUid], { encoding: 'utf8' })
  } catch {
    throw new InvalidOptionError(
      'user',
      `nsbox delegate: no user named ${nameOrUid}. Give an existing user name or uid.`,
    )
  }
  const [name = nameOrUid, , uid = '', gid = ''] = entry.trim().split('\n')[0]?.split(':') ?? []
  return { name, uid: Number(uid), gid: Number(gid) }
}

// The command starts in the delegated leaf as the user, with the user's own groups;
// this root process steps back out, so the subtree holds only the user's processes.
async function runAsUser(
  user: DelegateUser,
  command: readonly string[],
  v2: { dir: string; leaf: string } | null,
): Promise<number> {
  const setpriv = findExecutable('setpriv')
  if (!setpriv) {
    throw new MissingToolError(
      'setpriv',
      'nsbox delegate: setpriv is not installed; it drops to the user. Install util-linux: sudo apt-get install util-linux.',
    )
  }
  const home = execFileSync('getent', ['passwd', String(user.uid)], { encoding: 'utf8' }).split(
    ':',
  )[5]
  const ownCgroup = readCurrentCgroups().unified
  if (v2) moveProcess(process.pid, v2.leaf)
  const child = spawn(
    setpriv,
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...command],
    {
      stdio: 'inherit',
      env: { ...process.env, USER: user.name, LOGNAME: user.name, HOME: home?.trim() || '/' },
    },
  )
  if (v2 && ownCgroup) moveProcess(process.pid, ownCgroup)
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward)
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`nsbox delegate: could not start ${command[0]}: ${error.message}\n`)
      resolve(127)
    })
    child.on('close', (exitCode, signal) => resolve(exitCode ?? 128 + signalNumber(signal)))
  })
  if (v2) await removeTree(v2.dir)
  return code
}

async function undoV2(user: DelegateUser): Promise<number> {
  const root = readCurrentCgroups().unifiedMountPoint
  const parent = `${root}/nsbox`
  let entries: string[] = []
  try {
    entries = readdirSync(parent).filter((entry) => entry.startsWith(`user-${user.uid}-`))
  } catch {
    // nothing was delegated
  }
  for (const entry of entries) await removeTree(`${parent}/${entry}`)
  process.stderr.write(`nsbox: removed ${entries.length} delegated subtree(s) of ${user.name}\n`)
  return 0
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 9) : 0
}
