import { readdirSync, readFileSync } from 'node:fs'

/** Host PIDs of live processes whose command line contains `marker`. */
export function processesWithMarker(marker: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]
      if (commandLine.includes(marker) && state !== 'Z') found.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return found
}

/** Waits until no live process carries `marker`, up to `withinMs`; returns what is left. */
export async function waitUntilGone(marker: string, withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs
  let left = processesWithMarker(marker)
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25))
    left = processesWithMarker(marker)
  }
  return left
}

/** A marker unique to one test, to find its processes on the host. */
export function uniqueMarker(label: string): string {
  return `nsbox-marker-${label}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
}

/** Waits until process `pid` no longer exists (a zombie counts as gone), up to `withinMs`. */
export async function waitForExit(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return true
}

function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}
