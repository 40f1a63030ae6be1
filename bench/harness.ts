/**
 * The benchmark's core, one window size at a time, against one PostgreSQL server:
 * - the compiled binary as cron runs it: first sync (a fresh database per repetition), unchanged
 *   rerun, rerun after a share of the window changed in Gingr;
 * - in this process, over the same fetched and mapped rows: gingr-sync's write phase alone
 *   (`writeWindow` in a transaction), the COPY floor, and the naive one-row-at-a-time way.
 * Then, when asked: the full sync (bench/full.ts), many tenants against a slow Gingr
 * (bench/many.ts), and a database behind a slow link (bench/remote.ts).
 * The Gingr simulator runs in this process and the binary reaches it over real HTTP.
 */
import { loadavg } from 'node:os'
import { type WindowRows, writeWindow } from '../src/db/writes.ts'
import { splitIntoChunks } from '../src/gingr/chunks.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { mapWindow } from '../src/sync/map.ts'
import { syncWindow } from '../src/sync/window.ts'
import { type BinaryRun, type Phases, runLikeCron } from './binary.ts'
import { changeShare } from './changes.ts'
import {
  type BenchDatabase,
  type DatabaseFactory,
  emptyDataTables,
  openDatabases,
  rowsWrittenSince,
  type StatementAudit,
  statementAudit,
  TENANT_ID,
  TENANT_ZONE,
  writeMark,
} from './databases.ts'
import { copyWindow, createFloorTables, emptyFloorTables } from './floor.ts'
import { benchFull, type FullBenchResult, type FullPlan } from './full.ts'
import { benchMany, type ManyPlan, type ManyResult } from './many.ts'
import { countingConnection, fetchWindow, GENERATED_PER_FETCHED, timed } from './measure.ts'
import { naiveSync } from './naive.ts'
import { benchRemote, type RemotePlan, type RemoteResult } from './remote.ts'

export const CHANGED_SHARE = 0.05

export interface SizePlan {
  /** Reservations the window should hold. */
  target: number
  /** Binary runs per scenario, and in-process runs of the write phase and the floor. */
  repetitions: number
  naiveRepetitions: number
  /** The naive way runs on at most this many reservations; beyond, its time is scaled up linearly. */
  naiveCap: number
}

export interface BenchOptions {
  serverUrl: string
  binary: string
  sizes: SizePlan[]
  seed?: number
  log?: (line: string) => void
  /** The full sync of owners and animals too (bench/full.ts), at this size. */
  full?: FullPlan
  /** The many-tenant run (bench/many.ts). */
  many?: ManyPlan
  /** The hourly sync and the naive way behind a slow link to the database (bench/remote.ts). */
  remote?: RemotePlan
  /** Added to each binary run's environment (the tests' GINGR_SYNC_TEST_TIMING); none by default. */
  env?: Record<string, string>
}

export interface BinaryFigures {
  wallMs: number
  phases: Phases | null
  peakRssKb: number
  /** The binary's own count for the tenant (`statements` in --json). */
  statements: number
  /** pg_stat_statements' count for the whole process, when the server has it loaded. */
  auditedStatements: number | null
  rowsWritten: number
  /** The tenant's stamp and the run-history row: two on every run. */
  bookkeepingRows: number
  fetched: number
  created: number
  updated: number
  unchanged: number
  skipped: number
}

export interface InProcessFigures {
  ms: number[]
  statements: number
  rowsWritten: number
}

export interface SizeResult {
  /** The 1-minute load average when the size started and when it ended: this machine is shared. */
  load: [number, number]
  target: number
  generated: number
  fetched: number
  /** Fetch, validation and mapping in this process: the part the naive way shares with gingr-sync. */
  fetchMs: number
  /** Bytes of JSON the window's chunk requests answered: what every run downloads and parses. */
  payloadBytes: number
  first: BinaryFigures[]
  unchanged: BinaryFigures[]
  changed: BinaryFigures[]
  changedPerRun: number[]
  writePhase: { first: InProcessFigures; unchanged: InProcessFigures }
  /** COPY into bare unlogged tables, and into Tailtown's own (indexes, foreign keys). */
  floor: { ms: number[]; tailtownMs: number[]; rows: number }
  naive: {
    first: InProcessFigures
    rerun: InProcessFigures
    /** Reservations the naive runs covered; their times are scaled by fetched / measuredOn. */
    measuredOn: number
  }
}

export interface BenchResult {
  serverVersion: string
  auditAvailable: boolean
  sizes: SizeResult[]
  full?: FullBenchResult
  many?: ManyResult
  remote?: RemoteResult
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => {})
  const databases = await openDatabases(options.serverUrl)
  try {
    const audit = await statementAudit(databases.admin)
    const sizes: SizeResult[] = []
    for (const plan of options.sizes) {
      sizes.push(await benchSize({ plan, databases, audit, binary: options.binary, seed: options.seed ?? 1, log, env: options.env }))
    }
    const { binary, seed, env } = options
    const full = options.full ? await benchFull({ databases, binary, plan: options.full, seed, log, env }) : undefined
    const many = options.many ? await benchMany({ databases, binary, plan: options.many, log, env }) : undefined
    const remote = options.remote
      ? await benchRemote({ databases, serverUrl: options.serverUrl, binary, plan: options.remote, seed, log, env })
      : null
    return {
      serverVersion: databases.serverVersion,
      auditAvailable: audit !== null,
      sizes,
      ...(full ? { full } : {}),
      ...(many ? { many } : {}),
      ...(remote ? { remote } : {}),
    }
  } finally {
    await databases.close()
  }
}

interface SizeContext {
  plan: SizePlan
  databases: DatabaseFactory
  audit: StatementAudit | null
  binary: string
  seed: number
  log: (line: string) => void
  env: Record<string, string> | undefined
}

async function benchSize(context: SizeContext): Promise<SizeResult> {
  const { plan, log } = context
  const loadAtStart = loadavg()[0] ?? 0
  const generated = Math.round(plan.target * GENERATED_PER_FETCHED)
  const sim = await startSimulator({
    seed: context.seed,
    reservations: generated,
    owners: Math.ceil(generated / 3),
    animals: Math.ceil(generated / 2),
    timeZone: TENANT_ZONE,
  })
  try {
    // A first fetch has the simulator encode every record, so that no timed run pays for it.
    await fetchWindow(sim)
    const fetchStarted = performance.now()
    const reservations = await fetchWindow(sim)
    const rows = mapWindow(reservations)
    const fetchMs = performance.now() - fetchStarted
    const fetched = rows.reservations.length
    const payloadBytes = await payloadSize(sim)
    log(
      `${plan.target}: ${fetched} reservations in the window (${generated} generated, ${(payloadBytes / 1e6).toFixed(1)} MB of JSON), fetched in ${fetchMs.toFixed(0)} ms`,
    )

    const binaryRuns = await benchBinary(
      context,
      sim,
      reservations.map((r) => r.reservation_id),
    )
    const writePhase = await benchWritePhase(context, rows)
    const floor = await benchFloor(context, rows)
    const naiveRows = fetched > plan.naiveCap ? mapWindow(reservations.slice(0, plan.naiveCap)) : rows
    const naive = await benchNaive(context, naiveRows)
    return {
      load: [loadAtStart, loadavg()[0] ?? 0],
      target: plan.target,
      generated,
      fetched,
      fetchMs,
      payloadBytes,
      ...binaryRuns,
      writePhase,
      floor,
      naive: { ...naive, measuredOn: naiveRows.reservations.length },
    }
  } finally {
    await sim.stop()
  }
}

async function payloadSize(sim: Simulator): Promise<number> {
  let bytes = 0
  for (const chunk of splitIntoChunks(syncWindow(TENANT_ZONE, 7, 30))) {
    const body = new URLSearchParams({ key: sim.apiKey, start_date: chunk.from, end_date: chunk.to })
    const response = await fetch(`${sim.baseUrl}/reservations`, { method: 'POST', body })
    bytes += (await response.arrayBuffer()).byteLength
  }
  return bytes
}

async function runBinaryOnce(context: SizeContext, sim: Simulator, database: BenchDatabase): Promise<BinaryFigures> {
  const mark = await writeMark(database.sql)
  await context.audit?.reset(database.name)
  const run: BinaryRun = await runLikeCron(context.binary, {
    databaseUrl: database.url,
    gingrBaseUrl: sim.baseUrl,
    gingrApiKey: sim.apiKey,
    env: context.env,
  })
  const auditedStatements = context.audit ? await context.audit.calls(database.name) : null
  const written = await rowsWrittenSince(database.sql, mark)
  const { tenant } = run
  return {
    wallMs: run.wallMs,
    phases: run.phases,
    peakRssKb: run.peakRssKb,
    statements: tenant.statements,
    auditedStatements,
    rowsWritten: written.data,
    bookkeepingRows: written.bookkeeping,
    fetched: tenant.fetched,
    ...tenant.reservations,
  }
}

async function benchBinary(context: SizeContext, sim: Simulator, ids: string[]) {
  const { plan, log } = context
  const first: BinaryFigures[] = []
  let database: BenchDatabase | undefined
  for (let rep = 0; rep < plan.repetitions; rep++) {
    await database?.drop()
    database = await context.databases.fresh()
    first.push(await runBinaryOnce(context, sim, database))
  }
  log(`${plan.target}: first sync ${summary(first)}`)
  const synced = database!
  const unchanged: BinaryFigures[] = []
  for (let rep = 0; rep < plan.repetitions; rep++) unchanged.push(await runBinaryOnce(context, sim, synced))
  log(`${plan.target}: unchanged rerun ${summary(unchanged)}`)
  const changed: BinaryFigures[] = []
  const changedPerRun: number[] = []
  for (let rep = 0; rep < plan.repetitions; rep++) {
    changedPerRun.push(changeShare(sim.account, ids, CHANGED_SHARE, rep))
    changed.push(await runBinaryOnce(context, sim, synced))
  }
  log(`${plan.target}: ${Math.round(CHANGED_SHARE * 100)}% changed ${summary(changed)}`)
  await synced.drop()
  return { first, unchanged, changed, changedPerRun }
}

function summary(runs: BinaryFigures[]): string {
  const walls = runs.map((r) => r.wallMs.toFixed(0)).join('/')
  const last = runs[runs.length - 1]!
  return `${walls} ms, ${last.statements} statements, ${last.rowsWritten} rows, ${(last.peakRssKb / 1024).toFixed(0)} MB`
}

/** gingr-sync's writes alone: `writeWindow` and its commit, as the tenant's transaction runs them. */
async function benchWritePhase(context: SizeContext, rows: WindowRows): Promise<SizeResult['writePhase']> {
  const database = await context.databases.fresh()
  const { sql, statements } = countingConnection(database.url)
  try {
    const write = () => sql.begin((tx) => writeWindow(tx, TENANT_ID, rows))
    const first: InProcessFigures = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < context.plan.repetitions; rep++) {
      await emptyDataTables(database.sql)
      const mark = await writeMark(database.sql)
      const before = statements()
      first.ms.push(await timed(write))
      first.statements = statements() - before
      first.rowsWritten = (await rowsWrittenSince(database.sql, mark)).data
    }
    const unchanged: InProcessFigures = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < context.plan.repetitions; rep++) {
      const mark = await writeMark(database.sql)
      const before = statements()
      unchanged.ms.push(await timed(write))
      unchanged.statements = statements() - before
      unchanged.rowsWritten = (await rowsWrittenSince(database.sql, mark)).data
    }
    context.log(
      `${context.plan.target}: write phase ${first.ms.map((ms) => ms.toFixed(0)).join('/')} ms, unchanged ${unchanged.ms.map((ms) => ms.toFixed(0)).join('/')} ms`,
    )
    return { first, unchanged }
  } finally {
    await sql.end({ timeout: 5 })
    await database.drop()
  }
}

async function benchFloor(context: SizeContext, rows: WindowRows): Promise<SizeResult['floor']> {
  const database = await context.databases.fresh()
  try {
    await createFloorTables(database.sql)
    const floor: SizeResult['floor'] = { ms: [], tailtownMs: [], rows: 0 }
    for (let rep = 0; rep < context.plan.repetitions; rep++) {
      await emptyFloorTables(database.sql)
      floor.ms.push(
        await timed(async () => {
          floor.rows = await copyWindow(database.sql, TENANT_ID, rows, 'bare')
        }),
      )
      await emptyDataTables(database.sql)
      floor.tailtownMs.push(await timed(() => copyWindow(database.sql, TENANT_ID, rows, 'tailtown')))
    }
    context.log(
      `${context.plan.target}: COPY floor ${floor.ms.map((m) => m.toFixed(0)).join('/')} ms for ${floor.rows} rows, ` +
        `into Tailtown's tables ${floor.tailtownMs.map((m) => m.toFixed(0)).join('/')} ms`,
    )
    return floor
  } finally {
    await database.drop()
  }
}

async function benchNaive(context: SizeContext, rows: WindowRows): Promise<Omit<SizeResult['naive'], 'measuredOn'>> {
  const database = await context.databases.fresh()
  const { sql, statements } = countingConnection(database.url)
  try {
    const once = async (figures: InProcessFigures, empty: boolean) => {
      if (empty) await emptyDataTables(database.sql)
      const mark = await writeMark(database.sql)
      const before = statements()
      figures.ms.push(await timed(() => naiveSync(sql, TENANT_ID, rows)))
      figures.statements = statements() - before
      figures.rowsWritten = (await rowsWrittenSince(database.sql, mark)).data
    }
    const first: InProcessFigures = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < context.plan.naiveRepetitions; rep++) await once(first, true)
    const rerun: InProcessFigures = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < context.plan.naiveRepetitions; rep++) await once(rerun, false)
    context.log(
      `${context.plan.target}: naive ${first.ms.map((m) => m.toFixed(0)).join('/')} ms (${rows.reservations.length} reservations, ${first.statements} statements), rerun ${rerun.ms.map((m) => m.toFixed(0)).join('/')} ms`,
    )
    return { first, rerun }
  } finally {
    await sql.end({ timeout: 5 })
    await database.drop()
  }
}
