/**
 * What a remote database costs: the hourly sync (the compiled binary, as cron runs it) and the
 * naive per-row way (bench/naive.ts, in this process) against the same server reached through a
 * slow link (bench/slow-link.ts, 0.5 ms each way), one window size, measured rather than projected.
 * The link's real round trip is measured too (SELECT 1, through it and direct), and reported.
 */
import { connect } from '../src/db/connect.ts'
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

export interface RemoteRuns {
  ms: number[]
  statements: number
  rowsWritten: number
}

export interface RemoteResult {
  plan: RemotePlan
  fetched: number
  /** Medians of SELECT 1 on an open connection, direct and through the link. */
  roundTrip: { directMs: number; linkMs: number }
  /** The binary, spawn to exit, each first sync on a fresh database. */
  first: RemoteRuns
  unchanged: RemoteRuns
  naive: { first: RemoteRuns; rerun: RemoteRuns }
}

export interface RemoteOptions {
  databases: DatabaseFactory
  /** The server's own URL: the link relays to its host and port. */
  serverUrl: string
  binary: string
  plan: RemotePlan
  seed?: number
  log: (line: string) => void
}

/** A link needs a TCP address: a server reached by a Unix socket cannot be put behind one. */
export function linkTarget(serverUrl: string): { host: string; port: number } | null {
  const url = new URL(serverUrl)
  if (url.searchParams.has('host') || url.hostname === '' || url.hostname.startsWith('%2F')) return null
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432) }
}

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
  try {
    await fetchWindow(sim) // the simulator encodes every record once, before any timed run
    const rows = mapWindow(await fetchWindow(sim))
    const roundTrip = await measureRoundTrip(options.databases, link.through)
    log(
      `remote database: ${rows.reservations.length} reservations, round trip ${roundTrip.linkMs.toFixed(2)} ms through the link, ${roundTrip.directMs.toFixed(2)} ms direct`,
    )
    const cron = (database: BenchDatabase) => async () => {
      const settings = { databaseUrl: link.through(database.url), gingrBaseUrl: sim.baseUrl, gingrApiKey: sim.apiKey }
      const run = await runLikeCron(options.binary, settings)
      return { ms: run.wallMs, statements: run.tenant.statements }
    }
    const first: RemoteRuns = { ms: [], statements: 0, rowsWritten: 0 }
    let database: BenchDatabase | undefined
    for (let rep = 0; rep < plan.repetitions; rep++) {
      await database?.drop()
      database = await options.databases.fresh()
      await record(first, database, cron(database))
    }
    const unchanged: RemoteRuns = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < plan.repetitions; rep++) await record(unchanged, database!, cron(database!))
    await database?.drop()
    log(`remote database: gingr-sync first sync ${list(first.ms)} ms, unchanged rerun ${list(unchanged.ms)} ms`)

    const naive = await options.databases.fresh()
    const counted = countingConnection(link.through(naive.url))
    try {
      const naiveRuns = async (runs: RemoteRuns, empty: boolean) => {
        if (empty) await emptyDataTables(naive.sql)
        const before = counted.statements()
        await record(runs, naive, async () => ({ ms: await timed(() => naiveSync(counted.sql, TENANT_ID, rows)) }))
        runs.statements = counted.statements() - before
      }
      const naiveFirst: RemoteRuns = { ms: [], statements: 0, rowsWritten: 0 }
      for (let rep = 0; rep < plan.naiveRepetitions; rep++) await naiveRuns(naiveFirst, true)
      const naiveRerun: RemoteRuns = { ms: [], statements: 0, rowsWritten: 0 }
      for (let rep = 0; rep < plan.naiveRepetitions; rep++) await naiveRuns(naiveRerun, false)
      log(`remote database: naive way ${list(naiveFirst.ms)} ms (${naiveFirst.statements} statements), rerun ${list(naiveRerun.ms)} ms`)
      return { plan, fetched: rows.reservations.length, roundTrip, first, unchanged, naive: { first: naiveFirst, rerun: naiveRerun } }
    } finally {
      await counted.sql.end({ timeout: 5 })
      await naive.drop()
    }
  } finally {
    await link.stop()
    await sim.stop()
  }
}

const list = (ms: number[]) => ms.map((m) => m.toFixed(0)).join('/')

/** One run: its time, the rows it wrote, and its statements when it counts them itself. */
async function record(runs: RemoteRuns, database: BenchDatabase, run: () => Promise<{ ms: number; statements?: number }>): Promise<void> {
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
