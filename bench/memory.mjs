// Memory overhead per sandbox: the resident memory of the launcher's own processes (for
// nsbox, `unshare` and the init; for bubblewrap, its two processes), with the command
// itself left out, while a sandbox runs `sleep`.
import { spawn as spawnChild } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { spawn } from '@nsbox/core'
import { BWRAP_ARGS, hasBwrap, LAUNCHERS } from './startup.mjs'

/** Kibibytes of resident memory of each launcher's own processes, one sample per round. */
export async function measureOverhead({ rounds, progress }) {
  const overhead = { [LAUNCHERS.nsbox]: [], ...(hasBwrap && { [LAUNCHERS.bubblewrap]: [] }) }
  for (let round = 1; round <= rounds; round++) {
    const sandbox = spawn('sleep', ['30'], { stdio: 'ignore', cwd: '/' })
    await once(sandbox, 'spawn') // its launcher starts, and has a pid, in a later turn
    overhead[LAUNCHERS.nsbox].push(await launcherRss(sandbox.pid))
    sandbox.kill('SIGKILL')
    await sandbox.result
    if (hasBwrap) {
      const bwrap = spawnChild('bwrap', [...BWRAP_ARGS, 'sleep', '30'], { stdio: 'ignore' })
      overhead[LAUNCHERS.bubblewrap].push(await launcherRss(bwrap.pid))
      bwrap.kill('SIGKILL')
    }
    progress(`round ${round}/${rounds}`)
  }
  return { overhead }
}

// The summed VmRSS of a process tree once `sleep` runs at its bottom, without `sleep`.
async function launcherRss(rootPid) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const tree = processTree(rootPid)
    const command = tree.find((pid) => readProc(pid, 'comm').trim() === 'sleep')
    if (command !== undefined) {
      return tree.filter((pid) => pid !== command).reduce((sum, pid) => sum + rssKiB(pid), 0)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`no sleep under ${rootPid}`)
}

function processTree(pid) {
  const children = readProc(pid, `task/${pid}/children`).trim().split(/\s+/).filter(Boolean)
  return [pid, ...children.flatMap((child) => processTree(Number(child)))]
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readProc(pid, 'status'))?.[1] ?? 0)
}

function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return ''
  }
}
