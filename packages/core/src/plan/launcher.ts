import type { NetworkMode } from '../options/types.js'

/** Absolute paths of the programs a launch uses. */
export interface LauncherTools {
  unshare: string
  perl: string
  initScript: string
}

/**
 * The util-linux `unshare` command line that creates the namespaces and starts the init.
 * The caller is mapped to root of a new user namespace only so that the init can set up;
 * the init then drops to the caller's own uid before the command runs.
 * `--kill-child` ties the whole PID namespace to the `unshare` process.
 *
 * @param cgroupProcsFds - File descriptors, as the init sees them, of the `cgroup.procs`
 *   files the init enters first.
 */
export function planLauncher(
  network: NetworkMode,
  tools: LauncherTools,
  cgroupProcsFds: readonly number[] = [],
): { file: string; args: string[] } {
  return {
    file: tools.unshare,
    args: [...namespaceFlags(network), tools.perl, tools.initScript, ...cgroupProcsFds.map(String)],
  }
}

/** The `unshare` flags that create a sandbox's namespaces, before the program to run. */
export function namespaceFlags(network: NetworkMode): string[] {
  const flags = [
    '--user',
    '--map-root-user',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--uts',
    '--ipc',
  ]
  if (network !== 'host') flags.push('--net')
  return flags
}
