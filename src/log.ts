// consola/core: our own reporter is all the CLI uses; the package's entry would also load its fancy
// reporter and its prompt (node:readline), about 5 ms of every start.
import { type ConsolaInstance, createConsola, LogLevels, type LogObject } from 'consola/core'
import { colors } from 'consola/utils'
import { redact } from './secrets.ts'
import { printable } from './text.ts'

export type Logger = ConsolaInstance

export interface LoggerOptions {
  /** Show debug lines (and stacks). */
  verbose?: boolean
  /** Only warnings and errors. */
  quiet?: boolean
  /** Where talk goes: stderr, so that stdout carries only results (`--json`). */
  stream?: NodeJS.WriteStream
}

const LABELS: Partial<Record<string, string>> = {
  fatal: 'ERROR',
  error: 'ERROR',
  warn: 'WARN',
  debug: 'DEBUG',
  trace: 'DEBUG',
}

/**
 * One entry's text: each message on one line, whatever outside text it carries. Only a stack
 * trace (shown with --verbose) keeps its lines, each made printable.
 */
function render(log: LogObject): string {
  const parts = log.args.map((arg) =>
    arg instanceof Error ? (arg.stack ?? arg.message).split('\n').map(printable).join('\n') : printable(String(arg)),
  )
  return redact(parts.join(' '))
}

/**
 * On a terminal: the message, coloured by level. Anywhere else (cron's log file): one plain line per
 * message, ISO timestamp first and a level word, so that `grep -i error` finds every failure.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr
  const terminal = Boolean(stream.isTTY) && !process.env.NO_COLOR
  const level = options.quiet ? LogLevels.warn : options.verbose ? LogLevels.debug : LogLevels.info
  return createConsola({
    level,
    reporters: [
      {
        log(log) {
          const text = render(log)
          const label = LABELS[log.type] ?? 'INFO'
          if (!terminal) {
            const prefix = `${log.date.toISOString()} ${label.padEnd(5)} `
            stream.write(
              `${text
                .split('\n')
                .map((line) => prefix + line)
                .join('\n')}\n`,
            )
            return
          }
          const paint =
            label === 'ERROR' ? colors.red : label === 'WARN' ? colors.yellow : label === 'DEBUG' ? colors.gray : (s: string) => s
          stream.write(`${paint(text)}\n`)
        },
      },
    ],
  })
}
