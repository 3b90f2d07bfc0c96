import { readFileSync } from 'node:fs'
import path from 'node:path'
import { type SandboxProcess, spawn } from '@nsbox/core'
import {
  applyDocblock,
  ConsoleBudget,
  type FileSandboxOptions,
  HostAccessGuard,
  MessageChannel,
  type RunnerBoundary,
  readDocblockOverrides,
  withReadOnlyRunnerFiles,
} from '@nsbox/core/runner'
import type { PoolOptions } from 'vitest/node'
import { RpcGuard } from './rpc-guard.js'
import { vitestRunnerFiles } from './runner-files.js'

/** One test file's sandbox, started, with what stands between it and Vitest. */
export interface FileLaunch {
  /** The options its sandbox started with (after its docblock, runner files read-only). */
  options: FileSandboxOptions
  sandbox: SandboxProcess
  /** The worker's IPC channel, capped. */
  channel: MessageChannel
  /** Checks its RPC calls on the host. */
  guard: RpcGuard
}

/**
 * Starts Vitest's worker for one test file in a sandbox of its own: the file's docblock
 * applied under the `docblock` policy, the runner's files read-only (`protectRunner`),
 * the worker's IPC on a capped {@link MessageChannel}, its RPC calls behind an
 * {@link RpcGuard}. Throws the file's error (a bad docblock, a sandbox that cannot start).
 */
export async function launchFile(
  pool: PoolOptions,
  base: FileSandboxOptions,
  boundary: RunnerBoundary,
  filepath: string,
  relativePath: string,
): Promise<FileLaunch> {
  const { project, distPath, execArgv, env } = pool
  const root = project.config.root
  const docblock = readDocblockOverrides(readFileSync(filepath, 'utf8'))
  const fileOptions = applyDocblock(base, docblock, relativePath, boundary.docblock)
  const runnerFiles = boundary.protectRunner ? vitestRunnerFiles(project) : []
  const options = withReadOnlyRunnerFiles(fileOptions, runnerFiles)
  const channel = await MessageChannel.open('advanced', boundary.maxMessageBytes)
  try {
    const command = channel.command(process.execPath, [
      ...execArgv,
      path.resolve(distPath, 'workers/forks.js'),
    ])
    const access = new HostAccessGuard(
      { ...options, runnerFiles },
      { cwd: root, file: command.file, args: command.args },
      relativePath,
    )
    const consoleBudget = new ConsoleBudget(boundary.maxConsoleBytes)
    const guard = new RpcGuard(access, consoleBudget, root, relativePath)
    const sandbox = spawn(command.file, command.args, {
      ...options,
      cwd: root,
      env: { ...(env as Record<string, string>), ...command.env },
      extendEnv: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return { options, sandbox, channel, guard }
  } catch (error) {
    channel.close()
    throw error
  }
}
