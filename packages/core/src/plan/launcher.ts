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
 */
export function planLauncher(
  network: NetworkMode,
  tools: LauncherTools,
): { file: string; args: string[] } {
  const namespaces = [
    '--user',
    '--map-root-user',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--uts',
    '--ipc',
  ]
  if (network !== 'host') namespaces.push('--net')
  return { file: tools.unshare, args: [...namespaces, tools.perl, tools.initScript] }
}
