/** Renders a rejected value for an error message: `"banana"` (string), `-1` (number). */
export function describeValue(value: unknown): string {
  if (value === null) return '`null`'
  if (Array.isArray(value)) return `\`${JSON.stringify(value)}\` (array)`
  const type = typeof value
  if (type === 'string') return `\`${JSON.stringify(value)}\` (string)`
  if (type === 'object') return `\`${JSON.stringify(value)}\` (object)`
  return `\`${String(value)}\` (${type})`
}
