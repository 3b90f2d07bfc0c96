import { type CgroupSupport, type HostSupport, probe, type ToolSupport } from '../probe/probe.js'
import { installHint } from '../probe/tools.js'
import { parseCommandFlags } from './flags.js'
import { DOCTOR_HELP } from './help.js'

/**
 * Carries out `nsbox doctor`; exits non-zero only when sandboxes cannot start at all.
 * Throws `ERR_INVALID_OPTION` for a flag it does not take.
 */
export async function doctorCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandFlags(
    'doctor',
    argv,
    { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    { allowPositionals: false },
  )
  if (values.help) {
    process.stdout.write(DOCTOR_HELP)
    return 0
  }
  const support = await probe()
  if (values.json) {
    process.stdout.write(`${JSON.stringify(support, null, 2)}\n`)
  } else {
    process.stdout.write(formatDoctorReport(support))
  }
  return support.canSandbox ? 0 : 1
}

/** The human-readable doctor report. */
export function formatDoctorReport(support: HostSupport): string {
  const lines = [`nsbox doctor: Linux ${support.kernel} (${support.arch})`, '']
  const { unshare, perl } = support.tools
  lines.push(toolLine('unshare', unshare), toolLine('perl', perl))
  const userns = support.userNamespaces
  if (userns.works) {
    lines.push('  ok    user namespaces: a test sandbox started')
  } else if (userns.blockedBy === 'missing-tool') {
    lines.push('  --    user namespaces: not tried, a tool above is missing')
  } else {
    lines.push(`  FAIL  user namespaces: ${userns.message.replace(/^nsbox: /, '')}`)
    // Said once: most messages already end with their fix.
    if (userns.fix && !userns.message.includes(userns.fix)) lines.push(`        fix: ${userns.fix}`)
  }
  lines.push(...cgroupLines(support.cgroups))
  lines.push('')
  lines.push(
    support.canSandbox
      ? 'Sandboxes can start on this host.'
      : 'Sandboxes cannot start on this host: fix the FAIL lines above.',
  )
  return `${lines.join('\n')}\n`
}

function cgroupLines(cgroups: CgroupSupport): string[] {
  const version = cgroups.version === null ? 'none mounted' : `cgroup v${cgroups.version}`
  const { memory, pids, cpus } = cgroups.limits
  const limits = `memory: ${memory}, pids: ${pids}, cpus: ${cpus ?? 'unavailable'}`
  const lines: string[] = []
  if (cgroups.systemdScope) {
    lines.push(
      `  ok    cgroups: not delegated here, so nsbox moved this process into the delegated systemd user scope ${cgroups.systemdScope} (NSBOX_SYSTEMD_SCOPE=0 turns this off)`,
    )
  }
  if (cgroups.backend) {
    lines.push(
      `  ok    cgroups: ${version}, controllers ${cgroups.controllers.join(' ')}; sandbox cgroups go in ${cgroups.sandboxParents.join(', ')}`,
    )
  } else {
    lines.push(`  WARN  cgroups: ${version}; no writable cgroup for this user`)
  }
  lines.push(`  ${cgroups.missing ? 'WARN' : 'ok  '}  limits enforced by: ${limits}`)
  if (cgroups.missing) {
    lines.push(`        why: ${cgroups.missing.reason}`)
    lines.push(`        fix: ${cgroups.missing.fix}`)
  }
  return lines
}

function toolLine(name: string, { path, version, problem }: ToolSupport): string {
  if (!path) return `  FAIL  ${name}: not found\n        fix: ${installHint()}`
  if (problem) return `  FAIL  ${name}: ${path}: ${problem}\n        fix: ${installHint()}`
  return `  ok    ${name}: ${path}${version ? ` (${version})` : ''}`
}
