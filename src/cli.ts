#!/usr/bin/env bun
import { type ArgsDef, type CommandDef, defineCommand, renderUsage, runCommand } from 'citty'
// Not node:util's stripVTControlCharacters: reaching it loads util's inspect module at every start
// (8 ms in a profile of the bundled CLI), for the rare --help into a pipe.
import { stripAnsi } from 'consola/utils'
import { assertKnownArgs, commonArgs, syncArgs } from './commands/_shared.ts'
import { describeDbError, isDbError } from './db/connect.ts'
import { ExitCode, errorMessage, UsageError } from './errors.ts'
import { writeResult } from './output.ts'
import { redact } from './secrets.ts'
import { timing } from './timing.ts'
import { COMMIT, VERSION } from './version.ts'

/** Loaded lazily: `status` should not pay for the sync's imports, nor `--help` for any. */
type AnyCommand = CommandDef<ArgsDef>
const commands: Record<string, () => Promise<AnyCommand>> = {
  sync: () => import('./commands/sync.ts').then((m) => m.default as unknown as AnyCommand),
  migrate: () => import('./commands/migrate.ts').then((m) => m.default as unknown as AnyCommand),
  status: () => import('./commands/status.ts').then((m) => m.default as unknown as AnyCommand),
  doctor: () => import('./commands/doctor.ts').then((m) => m.default as unknown as AnyCommand),
  full: () => import('./commands/full.ts').then((m) => m.default as unknown as AnyCommand),
}

const main = defineCommand({
  meta: {
    name: 'gingr-sync',
    version: VERSION,
    description: 'Copy Gingr reservations into the Tailtown database, one transaction per tenant.',
  },
  args: syncArgs,
  subCommands: commands,
})

const EXIT_CODES = `EXIT CODES

  0    every tenant synced (status: nothing stale; doctor: every check passed)
  1    at least one tenant failed (status: a tenant is stale; doctor: a check failed)
  2    usage or configuration error: nothing was done
  3    every tenant synced, with something to look at: invalid records skipped, or changes the
       guard withheld (cancellations; for full, deactivations)
  4    stopped at --max-runtime: the tenant in flight was rolled back, those before it stay synced
  130  stopped by SIGINT (Ctrl-C): the open transaction was rolled back
  143  stopped by SIGTERM: the open transaction was rolled back`

const verbose = process.argv.includes('--verbose')
const jsonOutput = process.argv.includes('--json')

async function usage(cmd: AnyCommand, isMain: boolean): Promise<string> {
  const text = await renderUsage(cmd, isMain ? undefined : (main as unknown as AnyCommand))
  return isMain ? `${text}\n\n${EXIT_CODES}` : text
}

/**
 * The command named in argv, and the arguments it gets. `--help` shows the flags before the
 * command (`gingr-sync --env-file X status`), as cron entries and habit write them, so the name is
 * the first word that is not a flag or a flag's value; the flags on either side of it all go to
 * the command, which refuses those it does not take.
 */
function splitCommand(argv: readonly string[]): { name?: string; rawArgs: string[] } {
  const takesValue = new Set(
    Object.entries(syncArgs)
      .filter(([, def]) => def.type === 'string')
      .map(([flag]) => `--${flag}`),
  )
  let onlyCommonFlags = true
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? ''
    if (token === '--') break
    if (token.startsWith('-')) {
      onlyCommonFlags &&= isCommonFlag(token)
      if (takesValue.has(token)) i++
      continue
    }
    if (Object.hasOwn(commands, token)) return { name: token, rawArgs: [...argv.slice(0, i), ...argv.slice(i + 1)] }
    // `--tenant x extra`: a stray word after sync's own flags is sync's mistake, said as such below.
    if (!onlyCommonFlags) break
    throw new UsageError(`Unknown command "${token}". Commands: ${Object.keys(commands).join(', ')}.`)
  }
  return { rawArgs: [...argv] }
}

function isCommonFlag(token: string): boolean {
  const flag = token.replace(/^--?(no-)?/, '').split('=')[0] ?? ''
  return flag in commonArgs
}

async function run(argv: string[]): Promise<number> {
  const split = splitCommand(argv)
  const named = split.name !== undefined
  const name = split.name ?? 'sync'
  const isMain = !named
  const load = commands[name]
  if (!load) throw new Error(`No command ${name}.`) // splitCommand names only commands that exist.
  const cmd = await load()
  const { rawArgs } = split

  if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
    const text = await usage(isMain ? (main as unknown as AnyCommand) : cmd, isMain)
    // citty colours its usage text; a pipe or a file gets it plain.
    await writeResult(`${process.stdout.isTTY ? text : stripAnsi(text)}\n`)
    return ExitCode.Ok
  }
  if (isMain && (rawArgs.includes('--version') || rawArgs.includes('-v'))) {
    await writeResult(`gingr-sync ${VERSION} (${COMMIT})\n`)
    return ExitCode.Ok
  }
  try {
    assertKnownArgs(rawArgs, (cmd.args ?? {}) as ArgsDef)
  } catch (error) {
    if (error instanceof UsageError) error.message += ` See: gingr-sync ${named ? `${name} ` : ''}--help`
    throw error
  }
  // A malformed GINGR_SYNC_TEST_TIMING is a bad setting like any other: exit 2, nothing done.
  timing()
  const { result } = await runCommand(cmd, { rawArgs })
  return typeof result === 'number' ? result : ExitCode.Ok
}

/** Every failure ends as one sentence on stderr and a documented exit code; the stack only with --verbose. */
async function fail(error: unknown): Promise<number> {
  const usage = error instanceof UsageError
  const sentence = isDbError(error) ? describeDbError(error) : errorMessage(error)
  process.stderr.write(redact(`${new Date().toISOString()} ERROR ${sentence}\n`))
  if (verbose && error instanceof Error && error.stack) process.stderr.write(redact(`${error.stack}\n`))
  // When stdout itself is what failed, the sentence above has said so already.
  if (jsonOutput) await writeResult(`${redact(JSON.stringify({ ok: false, error: sentence, tenants: [] }))}\n`).catch(() => {})
  return usage ? ExitCode.Usage : ExitCode.Failed
}

const code = await run(process.argv.slice(2)).catch(fail)
// Flush and leave: no timer or socket may keep a cron job alive.
process.exit(code)
