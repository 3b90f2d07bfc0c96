import { type ParseArgsConfig, parseArgs } from 'node:util'
import { InvalidOptionError } from '../errors.js'
import { suggestOption } from '../options/suggest.js'

/** The flags one `nsbox` command takes, as `util.parseArgs` describes them. */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>

/** What a command line's flags said: their values, and the words that were not flags. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
}

/**
 * Parses the flags of `nsbox <command>` (what comes before `--`); throws
 * `ERR_INVALID_OPTION` in nsbox's own words: an unknown flag with the one probably meant,
 * a flag without its value, a switch given one, a word where none is taken. A value that
 * starts with `-` is taken as the value (`--memory -5M`), for the option's own check to
 * name. Pure.
 */
export function parseCommandFlags(
  command: string,
  argv: readonly string[],
  options: FlagOptions,
  { allowPositionals }: { allowPositionals: boolean },
): ParsedFlags {
  const args: string[] = []
  let positionals = 0
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] ?? ''
    if (!word.startsWith('-') || word === '-') {
      if (!allowPositionals) fail(command, `\`${command}\` takes no argument \`${word}\``)
      positionals += 1
      args.push(word)
      continue
    }
    const name = flagName(word, options)
    const option = name === undefined ? undefined : options[name]
    if (name === undefined || !option)
      fail(command, unknownFlag(command, word, options, positionals > 0, argv))
    if (option.type === 'boolean') {
      if (word.includes('=')) fail(command, `--${name} is a switch and takes no value`)
      args.push(`--${name}`)
    } else if (word.includes('=')) {
      args.push(word)
    } else {
      const value = argv[index + 1]
      if (value === undefined) fail(command, `--${name} needs a value`)
      args.push(`--${name}=${value}`)
      index += 1
    }
  }
  const parsed = parseArgs({ args, options, strict: true, allowPositionals })
  return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals }
}

// The long name of `--name`, `--name=value` or a short `-h`; undefined for none known.
function flagName(word: string, options: FlagOptions): string | undefined {
  if (word.startsWith('--')) return word.slice(2).split('=')[0]
  const short = word.slice(1)
  return Object.entries(options).find(([, option]) => option.short === short)?.[0]
}

function unknownFlag(
  command: string,
  word: string,
  options: FlagOptions,
  isAfterCommand: boolean,
  argv: readonly string[],
): string {
  const name = word.replace(/^--?/, '').split('=')[0] ?? ''
  // A misspelt long flag; `-la` and the like are no misspelling of one.
  const suggestion = word.startsWith('--') ? suggestOption(name, Object.keys(options)) : undefined
  if (suggestion) return `unknown flag ${word}. Did you mean --${suggestion}?`
  if (isAfterCommand) {
    // `nsbox run ls -la`: the command's own flags, written before the `--` that ends nsbox's.
    const words = argv.filter((each) => each !== '--')
    return `unknown flag ${word}. If it is an argument of the command, put the command after \`--\`: nsbox ${command} [flags] -- ${words.join(' ')}`
  }
  return `unknown flag ${word}`
}

function fail(command: string, what: string): never {
  const end = what.endsWith('?') ? '' : '.'
  throw new InvalidOptionError(
    'argv',
    `nsbox ${command}: ${what}${end} See \`nsbox ${command} --help\`.`,
  )
}
