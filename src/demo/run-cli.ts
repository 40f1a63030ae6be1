/**
 * The demo runs gingr-sync exactly as cron runs it: a process of its own, started from the CLI's
 * entry, with a clean environment that holds only the settings (never the shell's DATABASE_URL).
 * Its stderr (the talk an operator reads) goes straight to the terminal; stdout (the result, such
 * as `--json`) is captured for the demo to check and show.
 */
import { resolve } from 'node:path'
import { colors } from 'consola/utils'
import * as v from 'valibot'
import { TIMING_VARIABLE } from '../timing.ts'

const ROOT = resolve(import.meta.dir, '../..')
/** A run takes a second; a minute means something hangs, and the demo must not. */
const RUN_LIMIT_MS = 60_000

/** The settings a deployment puts in its env file. */
export interface CliSettings {
  DATABASE_URL: string
  GINGR_SUBDOMAIN: string
  GINGR_API_KEY: string
  GINGR_BASE_URL: string
}

export interface CliRun {
  code: number
  stdout: string
}

export class DemoFailure extends Error {
  override name = 'DemoFailure'
}

export async function runCli(args: string[], settings: CliSettings, signal: AbortSignal, note = 'bun run src/cli.ts'): Promise<CliRun> {
  process.stdout.write(`${colors.dim(`   $ gingr-sync ${args.join(' ')}   (${note})`)}\n`)
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: process.env.NO_COLOR,
    // The tests' short waits (src/timing.ts) reach the CLI when they run the demo; nobody else sets them.
    [TIMING_VARIABLE]: process.env[TIMING_VARIABLE],
    ...settings,
  }
  const child = Bun.spawn([process.execPath, 'run', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
    signal,
    timeout: RUN_LIMIT_MS,
  })
  const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()])
  if (signal.aborted) throw new DemoFailure('The demo was interrupted.')
  if (child.signalCode !== null) {
    throw new DemoFailure(`gingr-sync ${args[0] ?? ''} did not finish within ${RUN_LIMIT_MS / 1000} s and was stopped.`)
  }
  return { code, stdout }
}

/** The part of `gingr-sync --json` the demo checks. */
const SyncReport = v.object({
  ok: v.boolean(),
  tenants: v.array(
    v.object({
      status: v.string(),
      fetched: v.number(),
      reservations: v.object({
        created: v.number(),
        updated: v.number(),
        unchanged: v.number(),
        skipped: v.number(),
        errors: v.number(),
      }),
    }),
  ),
})
export type SyncReport = v.InferOutput<typeof SyncReport>
export type TenantReport = SyncReport['tenants'][number]

/** One sync of the demo's only tenant through the CLI: exit 0 and its one `tenants[]` entry, or a failure. */
export async function syncOnce(settings: CliSettings, signal: AbortSignal): Promise<TenantReport> {
  // Each sync of the demo stands for the next hour's: a tenant synced a moment ago is otherwise left alone.
  const run = await runCli(['--json', '--min-interval', '0'], settings, signal, 'bun run src/cli.ts; the demo checks the JSON it prints')
  if (run.code !== 0) throw new DemoFailure(`gingr-sync exited with code ${run.code} instead of 0 (its error is printed above).`)
  let json: unknown
  try {
    json = JSON.parse(run.stdout)
  } catch {
    throw new DemoFailure('gingr-sync --json did not print one JSON object on stdout.')
  }
  const parsed = v.safeParse(SyncReport, json)
  if (!parsed.success) throw new DemoFailure(`gingr-sync --json printed an unexpected report: ${v.summarize(parsed.issues)}`)
  const [tenant, ...others] = parsed.output.tenants
  if (tenant === undefined || others.length > 0) {
    throw new DemoFailure(`gingr-sync synced ${parsed.output.tenants.length} tenants; the demo set up exactly one.`)
  }
  if (tenant.status !== 'synced') throw new DemoFailure(`The demo tenant's sync ended "${tenant.status}" instead of "synced".`)
  return tenant
}
