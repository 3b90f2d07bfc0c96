/** Whether `NSBOX_DEBUG=1` asks for a trace of each launch step. */
export function isDebugEnabled(): boolean {
  const value = process.env.NSBOX_DEBUG
  return value !== undefined && value !== '' && value !== '0'
}

/** Prints one launch step to stderr when `NSBOX_DEBUG=1`; silent otherwise. */
export function debug(message: string): void {
  if (isDebugEnabled()) process.stderr.write(`nsbox:debug ${message}\n`)
}
