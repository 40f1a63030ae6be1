/**
 * What a remote database costs: the hourly sync (the compiled binary, as cron runs it) and the
 * naive per-row way (bench/naive.ts, in this process) against one server, reached directly and
 * through a slow link (bench/slow-link.ts, 0.5 ms each way) in turn, one window size, measured
 * rather than projected. The link's real round trip is measured too (SELECT 1, through it and
 * direct), and reported.
 */
import { connect } from '../src/db/connect.ts'
import type { WindowRows } from '../src/db/writes.ts'
import { startSimulator } from '../src/simulator/index.ts'
import { mapWindow } from '../src/sync/map.ts'
import { runLikeCron } from './binary.ts'
import {
  type BenchDatabase,
  type DatabaseFactory,
  emptyDataTables,
  rowsWrittenSince,
  TENANT_ID,
  TENANT_ZONE,
  writeMark,
} from './databases.ts'
import { countingConnection, fetchWindow, GENERATED_PER_FETCHED, timed } from './measure.ts'
import { naiveSync } from './naive.ts'
import { startSlowLink } from './slow-link.ts'
import { spread } from './stats.ts'

export interface RemotePlan {
  /** Reservations the window should hold. */
  target: number
  /** Milliseconds the link holds each chunk, each way. */
  oneWayMs: number
  repetitions: number
  naiveRepetitions: number
}

export interface Runs {
  ms: number[]
  statements: number
  rowsWritten: number
}

/** The same runs, over one way to the database. */
export interface PathRuns {
  /** The binary, spawn to exit, each first sync on a fresh database. */
  first: Runs
  unchanged: Runs
  naive: { first: Runs; rerun: Runs }
}

export interface RemoteResult {
  plan: RemotePlan
  fetched: number
  /** Medians of SELECT 1 on an open connection, direct and through the link. */
  roundTrip: { directMs: number; linkMs: number }
  direct: PathRuns
  link: PathRuns
}

export interface RemoteOptions {
  databases: DatabaseFactory
  /** The server's own URL: the link relays to its host and port. */
  serverUrl: string
  binary: string
  plan: RemotePlan
  seed?: number
  log: (line: string) => void
  /** Added to each binary run's environment; none by default. */
  env?: Record<string, string>
}

/** A link needs a TCP address: a server reached by a Unix socket cannot be put behind one. */
export function linkTarget(serverUrl: string): { host: string; port: number } | null {
  const url = new URL(serverUrl)
  if (url.searchParams.has('host') || url.hostname === '' || url.hostname.startsWith('%2F')) return null
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432) }
}

type Path = 'direct' | 'link'
const PATHS: readonly Path[] = ['direct', 'link']

export async function benchRemote(options: RemoteOptions): Promise<RemoteResult | null> {
  const { plan, log } = options
  const target = linkTarget(options.serverUrl)
  if (!target) {
    log('remote database: not available: the server is reached by a Unix socket, which no TCP link can slow')
    return null
  }
  const generated = Math.round(plan.target * GENERATED_PER_FETCHED)
  const sim = await startSimulator({
    seed: options.seed ?? 1,
    reservations: generated,
    owners: Math.ceil(generated / 3),
    animals: Math.ceil(generated / 2),
    timeZone: TENANT_ZONE,
  })
  const link = await startSlowLink(target, plan.oneWayMs)
  const via = (path: Path, url: string) => (path === 'link' ? link.through(url) : url)
  try {
    await fetchWindow(sim) // the simulator encodes every record once, before any timed run
    const rows = mapWindow(await fetchWindow(sim))
    const roundTrip = await measureRoundTrip(options.databases, link.through)
    log(
      `remote database: ${rows.reservations.length} reservations, round trip ${roundTrip.linkMs.toFixed(2)} ms through the link, ${roundTrip.directMs.toFixed(2)} ms direct`,
    )
    const cron = (path: Path, database: BenchDatabase) => async () => {
      const settings = {
        databaseUrl: via(path, database.url),
        gingrBaseUrl: sim.baseUrl,
        gingrApiKey: sim.apiKey,
        env: options.env,
      }
      const run = await runLikeCron(options.binary, settings)
      return { ms: run.wallMs, statements: run.tenant.statements }
    }
    const result = { direct: emptyPath(), link: emptyPath() }
    // Direct and through the link in turn, so that both meet the same load on a shared machine.
    const synced = new Map<Path, BenchDatabase>()
    for (let rep = 0; rep < plan.repetitions; rep++) {
      for (const path of PATHS) {
        await synced.get(path)?.drop()
        const database = await options.databases.fresh()
        synced.set(path, database)
        await record(result[path].first, database, cron(path, database))
      }
    }
    for (let rep = 0; rep < plan.repetitions; rep++) {
      for (const path of PATHS) await record(result[path].unchanged, synced.get(path)!, cron(path, synced.get(path)!))
    }
    for (const database of synced.values()) await database.drop()
    for (const path of PATHS) {
      const { first, unchanged } = result[path]
      log(`remote database, ${path}: gingr-sync first sync ${list(first.ms)} ms, unchanged rerun ${list(unchanged.ms)} ms`)
    }
    for (const path of PATHS) {
      await naiveRuns(options.databases, via.bind(null, path), rows, plan.naiveRepetitions, result[path].naive)
      const { first, rerun } = result[path].naive
      log(`remote database, ${path}: naive way ${list(first.ms)} ms (${first.statements} statements), rerun ${list(rerun.ms)} ms`)
    }
    return { plan, fetched: rows.reservations.length, roundTrip, ...result }
  } finally {
    await link.stop()
    await sim.stop()
  }
}

function emptyPath(): PathRuns {
  const runs = (): Runs => ({ ms: [], statements: 0, rowsWritten: 0 })
  return { first: runs(), unchanged: runs(), naive: { first: runs(), rerun: runs() } }
}

/** The naive way in this process, on a fresh database: on empty tables, then again over its own rows. */
async function naiveRuns(
  databases: DatabaseFactory,
  url: (direct: string) => string,
  rows: WindowRows,
  repetitions: number,
  into: PathRuns['naive'],
): Promise<void> {
  const database = await databases.fresh()
  const counted = countingConnection(url(database.url))
  try {
    const once = async (runs: Runs, empty: boolean) => {
      if (empty) await emptyDataTables(database.sql)
      const before = counted.statements()
      await record(runs, database, async () => ({ ms: await timed(() => naiveSync(counted.sql, TENANT_ID, rows)) }))
      runs.statements = counted.statements() - before
    }
    for (let rep = 0; rep < repetitions; rep++) await once(into.first, true)
    for (let rep = 0; rep < repetitions; rep++) await once(into.rerun, false)
  } finally {
    await counted.sql.end({ timeout: 5 })
    await database.drop()
  }
}

const list = (ms: number[]) => ms.map((m) => m.toFixed(0)).join('/')

/** One run: its time, the rows it wrote, and its statements when it counts them itself. */
async function record(runs: Runs, database: BenchDatabase, run: () => Promise<{ ms: number; statements?: number }>): Promise<void> {
  const mark = await writeMark(database.sql)
  const { ms, statements } = await run()
  runs.ms.push(ms)
  runs.rowsWritten = (await rowsWrittenSince(database.sql, mark)).data
  if (statements !== undefined) runs.statements = statements
}

async function measureRoundTrip(databases: DatabaseFactory, through: (url: string) => string): Promise<RemoteResult['roundTrip']> {
  const database = await databases.fresh()
  try {
    const median = async (url: string) => {
      const sql = connect(url, { max: 1 })
      try {
        await sql`SELECT 1`
        const times: number[] = []
        for (let i = 0; i < 200; i++) times.push(await timed(() => sql`SELECT 1`))
        return spread(times).median
      } finally {
        await sql.end({ timeout: 5 })
      }
    }
    return { directMs: await median(database.url), linkMs: await median(through(database.url)) }
  } finally {
    await database.drop()
  }
}
