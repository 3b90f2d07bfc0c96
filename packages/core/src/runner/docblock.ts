/**
 * Reads the per-file override at the top of a test file:
 * `/** @nsbox memory=1G network=host timeout=2m *\/`. Pure.
 *
 * Only the first comment block counts, and only when nothing but whitespace, a shebang
 * or `// …` lines come before it; line ends may be LF, CRLF or CR. Returns the raw
 * `key=value` pairs, in order; their validation belongs to the option parser.
 */
export function readDocblockOverrides(source: string): Array<[key: string, value: string]> {
  // Line ends of any platform: `.` stops at a `\r`, and a CRLF docblock read nothing.
  const text = source.replace(/\r\n?/g, '\n')
  const match = /^(?:#![^\n]*\n)?(?:\s*\/\/[^\n]*\n)*\s*\/\*\*([\s\S]*?)\*\//.exec(text)
  if (!match?.[1]) return []
  const pairs: Array<[string, string]> = []
  for (const line of match[1].split('\n')) {
    const tag = /@nsbox\b(.*)$/.exec(line.replace(/^\s*\*?/, ''))
    if (!tag?.[1]) continue
    for (const word of tag[1].trim().split(/\s+/)) {
      if (word === '') continue
      const separator = word.indexOf('=')
      pairs.push(
        separator === -1 ? [word, ''] : [word.slice(0, separator), word.slice(separator + 1)],
      )
    }
  }
  return pairs
}
