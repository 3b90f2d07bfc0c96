import path from 'node:path'

/** Whether the absolute path `child` is `parent` or lies under it. Pure. */
export function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(parent, child)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}
