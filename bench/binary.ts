/**
 * The compiled binary, run the way cron runs it: a process of its own with a bare environment
 * (cron gives PATH=/usr/bin:/bin, HOME, SHELL, LOGNAME and nothing else), no terminal on any
 * stream, its settings in an --env-file. Peak RSS comes from GNU time's %M (the kernel's maxrss
 * of the process) when /usr/bin/time exists, else from polling /proc/<pid>/status VmHWM.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import * as v from 'valibot'

const ROOT = resolve(import.meta.dir, '..')
export const BINARY = join(ROOT, 'dist/gingr-sync')
const GNU_TIME = '/usr/bin/time'

export const RSS_METHOD = existsSync(GNU_TIME)
  ? 'GNU time %M: the maxrss the kernel recorded for the process'
  : '/proc/<pid>/status VmHWM polled every 5 ms: a peak reached in the last few ms before exit can be missed'

/** Builds dist/gingr-sync from the working tree with the project's own script. */
export async function buildBinary(): Promise<string> {
  const proc = Bun.spawn(['./build.sh'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  if (code !== 0) throw new Error(`build.sh failed (exit ${code}): ${stderr.trim()}`)
  return BINARY
}

/** The part of `--json` the benchmark reads. */
const Report = v.object({
  ok: v.boolean(),
  tenants: v.array(
    v.object({
      status: v.string(),
      fetched: v.number(),
      statements: v.number(),
      reservations: v.object({ created: v.number(), updated: v.number(), unchanged: v.number(), skipped: v.number() }),
      error: v.optional(v.string()),
    }),
  ),
})
export type TenantReport = v.InferOutput<typeof Report>['tenants'][number]

/**
 * A run's phases, read from the timestamps of its own log lines (ms resolution): start (spawn to
 * the first line: runtime, settings, connection, tenant list), fetch (the fetching line to the
 * found line: requests, parsing, validation), write (to the result line: mapping, the transaction,
 * its commit) and exit (the last line to the process's end). Null if the lines are not found.
 */
export interface Phases {
  startMs: number
  fetchMs: number
  writeMs: number
  exitMs: number
}

export interface BinaryRun {
  wallMs: number
  phases: Phases | null
  peakRssKb: number
  tenant: TenantReport
}

export interface CronSettings {
  databaseUrl: string
  gingrBaseUrl: string
  gingrApiKey: string
  /** Added to cron's bare environment: the harness's tests give their GINGR_SYNC_TEST_TIMING. */
  env?: Record<string, string>
}

/** Long enough for a 50,000-reservation window on a slow machine; a hang must not stall the bench. */
const RUN_LIMIT_MS = 5 * 60_000

/** One `gingr-sync --env-file FILE --json`, timed from spawn to exit. */
export async function runLikeCron(binary: string, settings: CronSettings): Promise<BinaryRun> {
  // Each repetition is "the next hour": a tenant synced a moment ago is otherwise left alone.
  const run = await runProcessLikeCron(binary, settings, ['--min-interval', '0'])
  const report = v.parse(Report, JSON.parse(run.stdout))
  const [tenant] = report.tenants
  if (report.tenants.length !== 1 || tenant?.status !== 'synced') {
    throw new Error(`gingr-sync did not sync the one tenant: ${run.stdout.slice(0, 500)}`)
  }
  return { wallMs: run.wallMs, phases: phasesOf(run.stderr, run.spawnedAt, run.exitedAt), peakRssKb: run.peakRssKb, tenant }
}

export interface ProcessRun {
  wallMs: number
  peakRssKb: number
  stdout: string
  stderr: string
  /** Epoch ms, to place the log lines' own timestamps in the run. */
  spawnedAt: number
  exitedAt: number
}

export interface ProcessOptions {
  /** Killed past this; default 5 minutes. */
  limitMs?: number
}

/**
 * `gingr-sync [command] --env-file FILE --json`, as cron runs it, timed from spawn to exit, with
 * its peak RSS; a run that does not exit 0 is an error naming its last lines.
 */
export async function runProcessLikeCron(
  binary: string,
  settings: CronSettings,
  command: string[],
  options: ProcessOptions = {},
): Promise<ProcessRun> {
  const limitMs = options.limitMs ?? RUN_LIMIT_MS
  const dir = mkdtempSync(join(tmpdir(), 'gingr-sync-bench-'))
  try {
    const envFile = join(dir, 'gingr-sync.env')
    writeFileSync(
      envFile,
      `${[
        `DATABASE_URL=${settings.databaseUrl}`,
        'GINGR_SUBDOMAIN=bench',
        `GINGR_API_KEY=${settings.gingrApiKey}`,
        `GINGR_BASE_URL=${settings.gingrBaseUrl}`,
      ].join('\n')}\n`,
      { mode: 0o600 },
    )
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: dir,
      SHELL: '/bin/sh',
      LOGNAME: process.env.LOGNAME ?? 'root',
      ...settings.env,
    }
    const rssFile = join(dir, 'rss')
    const args = [binary, ...command, '--env-file', envFile, '--json']
    const timed = existsSync(GNU_TIME)
    const spawnedAt = Date.now()
    const started = performance.now()
    const proc = Bun.spawn(timed ? [GNU_TIME, '-f', '%M', '-o', rssFile, ...args] : args, {
      env,
      cwd: dir,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const polled = timed ? Promise.resolve(0) : pollPeakRss(proc.pid, proc.exited)
    const limit = setTimeout(() => killTree(proc.pid), limitMs)
    const [code, stdout, stderr, polledKb] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      polled,
    ])
    clearTimeout(limit)
    const wallMs = performance.now() - started
    const exitedAt = Date.now()
    if (wallMs >= limitMs) throw new Error(`gingr-sync ran longer than ${limitMs / 60_000} minutes and was killed: ${lastLines(stderr)}`)
    if (code !== 0) throw new Error(`gingr-sync exited ${code}: ${lastLines(stderr)}`)
    const peakRssKb = timed ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : polledKb
    return { wallMs, peakRssKb, stdout, stderr, spawnedAt, exitedAt }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Peak RSS of `gingr-sync --version`: what the runtime costs before any work. */
export async function baselineRss(binary: string): Promise<number> {
  const timed = existsSync(GNU_TIME)
  const proc = Bun.spawn(timed ? [GNU_TIME, '-f', '%M', binary, '--version'] : [binary, '--version'], {
    env: { PATH: '/usr/bin:/bin' },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  const polled = timed ? Promise.resolve(0) : pollPeakRss(proc.pid, proc.exited)
  const [, stderr, polledKb] = await Promise.all([proc.exited, new Response(proc.stderr).text(), polled])
  return timed ? Number(stderr.trim().split('\n').pop()) : polledKb
}

/** GNU time does not pass signals on: its child is killed first, by the pid the kernel lists. */
function killTree(pid: number): void {
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      process.kill(Number(child), 'SIGKILL')
    }
  } catch {
    // Already gone, or no /proc: the parent is still killed below.
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

function phasesOf(log: string, spawnedAt: number, exitedAt: number): Phases | null {
  const lines = log
    .trim()
    .split('\n')
    .map((line) => ({ at: Date.parse(line.slice(0, 24)), text: line }))
  const when = (marker: string) => lines.find((line) => line.text.includes(marker))?.at
  const [first, last] = [lines[0]?.at, lines[lines.length - 1]?.at]
  const [fetching, found, done] = [when('Fetching reservations'), when(' reservations in Gingr'), when('Reservations: ')]
  if ([first, last, fetching, found, done].some((at) => at === undefined || Number.isNaN(at))) return null
  return { startMs: first! - spawnedAt, fetchMs: found! - fetching!, writeMs: done! - found!, exitMs: exitedAt - last! }
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ')

async function pollPeakRss(pid: number, exited: Promise<number>): Promise<number> {
  let done = false
  void exited.then(() => {
    done = true
  })
  let peak = 0
  while (!done) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (match) peak = Math.max(peak, Number(match[1]))
    } catch {
      break // The process is gone.
    }
    await Bun.sleep(5)
  }
  return peak
}
