// The README's demo: one small program, run plainly and then in an nsbox sandbox.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { run } from '@nsbox/core'

const marker = `nsbox-demo-${process.pid}`
const probeProgram = `
  echo "processes it can see:  $(ls /proc | grep -c '^[0-9]')"
  echo "network interfaces:    $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')"
  echo "hostname:              $(hostname)"
  echo "user:                  $(id -un) (uid $(id -u)), capabilities $(grep CapEff /proc/self/status | cut -f2)"
  echo hello > /tmp/${marker}.txt
  echo "wrote:                 /tmp/${marker}.txt"
  (sh -c 'sleep 120; true' ${marker} >/dev/null 2>&1 &)
  echo "started:               a background process that outlives the program"
`

// The host's processes whose command line holds the marker, read from /proc (no procps needed).
function processesWithMarker() {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
      } catch {
        return false
      }
    })
    .map(Number)
}

function cleanUp() {
  for (const pid of processesWithMarker()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  rmSync(`/tmp/${marker}.txt`, { force: true })
}

function afterwards() {
  const leftover = processesWithMarker()
  const lines = [
    `  /tmp/${marker}.txt on the host: ${existsSync(`/tmp/${marker}.txt`) ? 'present' : 'absent'}`,
    `  the background process:       ${leftover.length > 0 ? `still running (pid ${leftover.join(', ')})` : 'gone'}`,
  ]
  cleanUp()
  return lines.join('\n')
}

// Whatever happens below, nothing of the demo stays behind.
process.on('exit', cleanUp)

const indent = (text) => text.trimEnd().replace(/^/gm, '  ')

console.log('1. Plainly, on the host:\n')
console.log(indent(execFileSync('sh', ['-c', probeProgram], { encoding: 'utf8' })))
await new Promise((resolve) => setTimeout(resolve, 200))
console.log('\n  Afterwards:')
console.log(afterwards())

console.log('\n2. In a sandbox: await run("sh", ["-c", program])\n')
const result = await run('sh', ['-c', probeProgram])
console.log(indent(result.stdout))
console.log('\n  Afterwards:')
console.log(afterwards())
console.log(`\n  The sandbox took ${result.duration.toFixed(1)} ms, exit code ${result.exitCode}.`)
console.log(
  '\nSame program: private PIDs, a private loopback, a private /tmp, and nothing left running.',
)
