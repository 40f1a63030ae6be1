/**
 * The full sync's benchmark: `gingr-sync full` as cron runs it, at the size of the measured
 * nightly run (11,826 owners, 18,469 animals): first run on a fresh database, unchanged rerun, rerun
 * after 5% of the owners and 5% of the animals changed in Gingr; beside it, in this process over the
 * same mapped rows, the naive per-row way the old script took (487 s for that account, measured in
 * production against a remote database).
 */
import { connect, type Sql } from '../src/db/connect.ts'
import type { FullRows } from '../src/db/full-writes.ts'
import { GingrClient } from '../src/gingr/client.ts'
import { LARGE_ACCOUNT, type Simulator, startSimulator } from '../src/simulator/index.ts'
import { lookupMap, mapFull } from '../src/sync/map-full.ts'
import { runProcessLikeCron } from './binary.ts'
import {
  type BenchDatabase,
  type DatabaseFactory,
  emptyDataTables,
  rowsWrittenSince,
  TENANT_ID,
  TENANT_ZONE,
  writeMark,
} from './databases.ts'
import { naiveFullSync } from './naive-full.ts'

export const FULL_CHANGED_SHARE = 0.05

export interface FullPlan {
  owners: number
  animals: number
  repetitions: number
  naiveRepetitions: number
}

export const FULL_PLAN: FullPlan = { ...LARGE_ACCOUNT, repetitions: 3, naiveRepetitions: 1 }

export interface FullRun {
  wallMs: number
  peakRssKb: number
  statements: number
  /** Row versions created in the data tables (customers, pets, ...), as for the hourly runs. */
  rowsWritten: number
  customers: { created: number; updated: number; unchanged: number }
  pets: { created: number; updated: number; unchanged: number }
}

export interface FullBenchResult {
  owners: number
  animals: number
  /** Bytes of JSON /owners and /animals answered. */
  payloadBytes: number
  first: FullRun[]
  unchanged: FullRun[]
  changed: FullRun[]
  /** Owners and animals changed before each changed rerun. */
  changedPerRun: number[]
  naive: {
    first: { ms: number[]; statements: number; rowsWritten: number }
    rerun: { ms: number[]; statements: number; rowsWritten: number }
  }
}

export async function benchFull(options: {
  databases: DatabaseFactory
  binary: string
  plan: FullPlan
  seed?: number
  log: (line: string) => void
  /** Added to each binary run's environment; none by default. */
  env?: Record<string, string>
}): Promise<FullBenchResult> {
  const { plan, log } = options
  const sim = await startSimulator({
    seed: options.seed ?? 1,
    owners: plan.owners,
    animals: plan.animals,
    reservations: 0,
    timeZone: TENANT_ZONE,
  })
  try {
    const rows = await fetchRows(sim)
    const payloadBytes = await payloadSize(sim)
    log(`full: ${plan.owners} owners and ${plan.animals} animals, ${(payloadBytes / 1e6).toFixed(1)} MB of JSON`)
    const first: FullRun[] = []
    let database: BenchDatabase | undefined
    for (let rep = 0; rep < plan.repetitions; rep++) {
      await database?.drop()
      database = await options.databases.fresh()
      first.push(await runOnce(options, sim, database))
    }
    log(`full: first run ${summary(first)}`)
    const synced = database!
    const unchanged: FullRun[] = []
    for (let rep = 0; rep < plan.repetitions; rep++) unchanged.push(await runOnce(options, sim, synced))
    log(`full: unchanged rerun ${summary(unchanged)}`)
    const changed: FullRun[] = []
    const changedPerRun: number[] = []
    for (let rep = 0; rep < plan.repetitions; rep++) {
      changedPerRun.push(changeShare(sim, FULL_CHANGED_SHARE, rep))
      changed.push(await runOnce(options, sim, synced))
    }
    log(`full: ${Math.round(FULL_CHANGED_SHARE * 100)}% changed ${summary(changed)}`)
    await synced.drop()
    const naive = await benchNaive(options.databases, rows, plan.naiveRepetitions)
    log(
      `full: naive ${naive.first.ms.map((ms) => ms.toFixed(0)).join('/')} ms (${naive.first.statements} statements), rerun ${naive.rerun.ms.map((ms) => ms.toFixed(0)).join('/')} ms`,
    )
    return { owners: plan.owners, animals: plan.animals, payloadBytes, first, unchanged, changed, changedPerRun, naive }
  } finally {
    await sim.stop()
  }
}

async function runOnce(
  { binary, env }: { binary: string; env?: Record<string, string> },
  sim: Simulator,
  database: BenchDatabase,
): Promise<FullRun> {
  const mark = await writeMark(database.sql)
  const settings = { databaseUrl: database.url, gingrBaseUrl: sim.baseUrl, gingrApiKey: sim.apiKey, env }
  const run = await runProcessLikeCron(binary, settings, ['full'])
  const report = JSON.parse(run.stdout) as {
    tenants: { status: string; statements: number; customers: FullRun['customers']; pets: FullRun['pets']; error?: string }[]
  }
  const [tenant] = report.tenants
  if (report.tenants.length !== 1 || tenant?.status !== 'synced')
    throw new Error(`gingr-sync full did not sync the one tenant: ${run.stdout.slice(0, 500)}`)
  const written = await rowsWrittenSince(database.sql, mark)
  const pick = ({ created, updated, unchanged }: FullRun['customers']) => ({ created, updated, unchanged })
  return {
    wallMs: run.wallMs,
    peakRssKb: run.peakRssKb,
    statements: tenant.statements,
    rowsWritten: written.data,
    customers: pick(tenant.customers),
    pets: pick(tenant.pets),
  }
}

/**
 * What a week changes at a busy resort: a share of the owners (a new phone, a move) and of the
 * animals (a weight, a re-home), each a column the full sync writes; `round` makes every round
 * differ from the last. Returns how many owners and animals were changed.
 */
function changeShare(sim: Simulator, share: number, round: number): number {
  const step = Math.max(1, Math.round(1 / share))
  const owners = [...sim.account.owners.keys()]
  const animals = [...sim.account.animals.keys()]
  let changed = 0
  for (let index = round % step; index < owners.length; index += step) {
    sim.account.changeOwner(owners[index]!, {
      cell_phone: `(303) 555-${String((index + round) % 10_000).padStart(4, '0')}`,
      city: `Bench ${round}`,
    })
    changed++
  }
  for (let index = round % step; index < animals.length; index += step) {
    // Two decimals: generated weights have one, so this is a change for every animal it touches.
    sim.account.changeAnimal(animals[index]!, { weight: `${10 + round + (index % 50)}.25` })
    changed++
  }
  return changed
}

async function fetchRows(sim: Simulator): Promise<FullRows> {
  const client = new GingrClient({ subdomain: 'bench', apiKey: sim.apiKey, baseUrl: sim.baseUrl, timeZone: TENANT_ZONE, paceMs: 0 })
  const [owners, animals, breeds, species] = [await client.owners(), await client.animals(), await client.breeds(), await client.species()]
  if (owners.invalid.length + animals.invalid.length > 0)
    throw new Error('The simulator sent invalid owners or animals; the benchmark expects none.')
  return mapFull(
    owners.records,
    animals.records,
    { breeds: lookupMap(breeds.records), species: lookupMap(species.records) },
    { owners: [], animals: [] },
  )
}

async function payloadSize(sim: Simulator): Promise<number> {
  let bytes = 0
  for (const endpoint of ['/owners', '/animals']) {
    const response = await fetch(`${sim.baseUrl}${endpoint}`, { method: 'POST', body: new URLSearchParams({ key: sim.apiKey }) })
    bytes += (await response.arrayBuffer()).byteLength
  }
  return bytes
}

async function benchNaive(databases: DatabaseFactory, rows: FullRows, repetitions: number): Promise<FullBenchResult['naive']> {
  const database = await databases.fresh()
  let count = 0
  const sql: Sql = connect(database.url, { max: 1, onQuery: () => count++ })
  try {
    const once = async (figures: FullBenchResult['naive']['first'], empty: boolean) => {
      if (empty) await emptyDataTables(database.sql)
      const mark = await writeMark(database.sql)
      const before = count
      const started = performance.now()
      await naiveFullSync(sql, TENANT_ID, rows)
      figures.ms.push(performance.now() - started)
      figures.statements = count - before
      figures.rowsWritten = (await rowsWrittenSince(database.sql, mark)).data
    }
    const first: FullBenchResult['naive']['first'] = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < repetitions; rep++) await once(first, true)
    const rerun: FullBenchResult['naive']['rerun'] = { ms: [], statements: 0, rowsWritten: 0 }
    for (let rep = 0; rep < repetitions; rep++) await once(rerun, false)
    return { first, rerun }
  } finally {
    await sql.end({ timeout: 5 })
    await database.drop()
  }
}

function summary(runs: FullRun[]): string {
  const last = runs[runs.length - 1]!
  return `${runs.map((r) => r.wallMs.toFixed(0)).join('/')} ms, ${last.statements} statements, ${last.rowsWritten} rows, ${(last.peakRssKb / 1024).toFixed(0)} MB`
}
