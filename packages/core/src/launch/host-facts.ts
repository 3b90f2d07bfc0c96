import { existsSync, realpathSync, statSync } from 'node:fs'
import { InvalidOptionError } from '../errors.js'
import type { SandboxSpec } from '../options/types.js'
import { type HostFacts, MINIMAL_DEV_NODES } from '../plan/init-plan.js'
import { kernelAbiFor } from '../plan/syscalls.js'
import { selectTmpBinds, tmpBindCandidates } from '../plan/tmp-binds.js'
import { gatherFilesystemFacts } from './filesystem-facts.js'

/** The file descriptor the launcher gives the IPC channel, when there is one. */
export const IPC_FD = 5

/** Gathers what the plan needs to know about the host, checking the paths the spec names. */
export function gatherHostFacts(
  spec: SandboxSpec,
  ipc: { enabled: boolean; serialization: string },
): HostFacts {
  checkCwd(spec.cwd)
  // Under untrusted only files and directories come back from a hidden place: a socket,
  // fifo or device named as an argument stays hidden like the rest. Elsewhere a socket
  // argument (a runner's message channel) brings its /tmp entry back.
  const onlyFiles = spec.filesystem.hideSockets
  const realCandidates = tmpBindCandidates(spec).flatMap((candidate) => {
    try {
      const real = realpathSync.native(candidate)
      const stats = statSync(real)
      return !onlyFiles || stats.isFile() || stats.isDirectory() ? [real] : []
    } catch {
      return []
    }
  })
  const tmpBinds = selectTmpBinds(realCandidates, { exact: spec.filesystem.exactTmpBinds })
  const filesystem = gatherFilesystemFacts(spec.filesystem, spec.cwd, realCandidates, tmpBinds)
  const env = { ...spec.env }
  if (ipc.enabled) {
    env.NODE_CHANNEL_FD = String(IPC_FD)
    env.NODE_CHANNEL_SERIALIZATION_MODE = ipc.serialization
  }
  return {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    arch: process.arch,
    abi: kernelAbiFor(process.arch),
    tmpBinds: tmpBinds.map((path) => ({ path, isDirectory: statSync(path).isDirectory() })),
    hasDevShm: existsSync('/dev/shm'),
    devNodes: spec.filesystem.minimalDev
      ? MINIMAL_DEV_NODES.map((name) => `/dev/${name}`).filter((node) => existsSync(node))
      : [],
    ipcFd: ipc.enabled ? IPC_FD : null,
    filesystem,
    env,
  }
}

function checkCwd(cwd: string): void {
  let isDirectory = false
  try {
    isDirectory = statSync(cwd).isDirectory()
  } catch {
    throw new InvalidOptionError(
      'cwd',
      `The \`cwd\` directory does not exist: ${cwd}. Create it or pass another \`cwd\`.`,
    )
  }
  if (!isDirectory)
    throw new InvalidOptionError(
      'cwd',
      `The \`cwd\` option must be a directory, but ${cwd} is a file.`,
    )
}
