/**
 * The fault matrix's test bed (RELIABILITY.md): the compiled binary against the simulator over
 * real HTTP and a real PostgreSQL, with the proofs every row needs: the database's state before
 * and after (row versions included), and no secret in any output or in the run history.
 */
import { expect } from 'bun:test'
import type { Sql } from '../src/db/connect.ts'
import { type Simulator, type SimulatorOptions, startSimulator } from '../src/simulator/index.ts'
import { syncTenant } from '../src/sync/run.ts'
import { syncWindow } from '../src/sync/window.ts'
import { binary, cleanEnv, type RunResult, runBinary } from './_binary.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { differencesFromGingr } from './_truth.ts'
import { insertTenant } from './fixtures/tailtown.ts'

export const ZONE = 'America/Denver'
/** Distinctive, so that a leak anywhere is found by a plain substring search. */
export const API_KEY = 'gk-Fault-Matrix-7Q2v9Xr4Lm'
/** Used only when the test server's URL has no password of its own (trust authentication ignores it). */
const FALLBACK_PASSWORD = 'pw-Fault-Matrix-Zk81Tq'
const BUSINESS_NAME = 'Fault Matrix Kennels'

export interface Bed {
  sim: Simulator
  db: TestDatabase
  tenant: string
  /** What cron's environment holds: the database URL with its password, the key, the base URL. */
  env: Record<string, string>
  /** The API key and the database password, and any other secret a test adds. */
  secrets: string[]
  /** Every output of every run, for the final secrets check. */
  outputs: string[]
}

/** A simulator, a migrated database and one tenant that has already been synced once. */
export async function startBed(tenant: string, options: SimulatorOptions = {}): Promise<Bed> {
  await binary()
  const sim = await startSimulator(simulatorOptions(options))
  const bed = await bedIn(await migratedDatabase(), tenant, sim)
  const first = await gingrSync(bed, ['--tenant', tenant])
  if (first.code !== 0) throw new Error(`The bed's first sync failed: ${first.stderr}`)
  return bed
}

/** The end of a file's bed: its run history must hold no secret, then everything is stopped and dropped. */
export async function stopBed(bed: Bed | undefined): Promise<void> {
  if (!bed) return
  try {
    expect(await historyLeaks(bed.db.sql, bed.secrets)).toEqual([])
  } finally {
    await bed.sim.stop()
    await bed.db.drop()
  }
}

/**
 * Beds for cases that run side by side (`describe.concurrent`): one migrated database for the
 * file, and for each case a bed of its own inside it, a fresh tenant and a fresh simulator (a
 * server on a free port) synced once. A case's faults then reach only its own simulator, its
 * snapshot holds only its own tenant's rows and its tenant lock is its own: no case can disturb
 * another's proof. A case that runs the binary without `--tenant` syncs every enabled tenant, and
 * one that changes the schema changes it for all: those stay serial.
 *
 * The first sync is the core's, in this process (`syncTenant`, what the binary runs): it is the
 * bed's set-up, not a proof, and the binary's start costs ~150 ms of CPU to the core's ~25 ms,
 * which is the difference on 2 cores when twenty cases start at once.
 */
export interface Beds {
  db: TestDatabase
  /** A new bed in the database: tenant `<prefix>-<n>`, its own simulator, its first sync done. */
  bed(options?: SimulatorOptions): Promise<Bed>
  /** The run history must hold no bed's secret; then every simulator is stopped and the database dropped. */
  stop(): Promise<void>
}

export async function startBeds(prefix: string): Promise<Beds> {
  await binary()
  const db = await migratedDatabase()
  const beds: Bed[] = []
  const sims: Simulator[] = []
  return {
    db,
    async bed(options = {}) {
      const sim = await startSimulator(simulatorOptions(options))
      sims.push(sim)
      const bed = await bedIn(db, `${prefix}-${sims.length}`, sim)
      beds.push(bed)
      const first = await syncTenant({
        sql: db.sql,
        tenant: { id: bed.tenant, businessName: BUSINESS_NAME },
        gingr: { subdomain: bed.env.GINGR_SUBDOMAIN!, apiKey: sim.apiKey, baseUrl: sim.baseUrl, timeZone: ZONE, paceMs: 0 },
        window: defaultWindow(),
        dryRun: false,
      })
      if (first.status !== 'synced') throw new Error(`The bed's first sync failed: ${first.error}`)
      return bed
    },
    async stop() {
      try {
        const secrets = beds.flatMap((bed) => bed.secrets)
        expect(await historyLeaks(db.sql, secrets)).toEqual([])
      } finally {
        await Promise.all(sims.map((sim) => sim.stop()))
        await db.drop()
      }
    },
  }
}

function simulatorOptions(options: SimulatorOptions): SimulatorOptions {
  return { seed: 41, reservations: 90, owners: 35, animals: 50, timeZone: ZONE, apiKey: API_KEY, ...options }
}

/** A bed for `tenant`, added to `db`, not yet synced. */
async function bedIn(db: TestDatabase, tenant: string, sim: Simulator): Promise<Bed> {
  const url = new URL(db.url)
  if (!url.password) url.password = FALLBACK_PASSWORD
  const env = {
    DATABASE_URL: url.toString(),
    GINGR_SUBDOMAIN: 'fault-matrix',
    GINGR_API_KEY: sim.apiKey,
    GINGR_BASE_URL: sim.baseUrl,
  }
  const bed: Bed = { sim, db, tenant, env, secrets: [sim.apiKey, decodeURIComponent(url.password)], outputs: [] }
  await insertTenant(db.sql, { id: tenant, businessName: BUSINESS_NAME, timezone: ZONE })
  return bed
}

/** Runs the binary with the bed's environment (plus `extra`; undefined removes a setting). */
export async function gingrSync(
  bed: Bed,
  args: string[],
  extra: Record<string, string | undefined> = {},
  timeoutMs?: number,
): Promise<RunResult> {
  const result = await runBinary(args, { ...bed.env, ...extra }, { timeoutMs })
  bed.outputs.push(result.stdout, result.stderr)
  expect(leaks(bed, result.stdout + result.stderr)).toEqual([])
  return result
}

/**
 * Starts the binary without waiting for it, for tests that signal it mid-run. `done` gives what
 * gingrSync gives, secrets checked.
 */
export async function startRun(
  bed: Bed,
  args: string[],
): Promise<{ proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>; done: Promise<RunResult> }> {
  const proc = Bun.spawn([await binary(), ...args], { env: cleanEnv(bed.env), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const done = (async () => {
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    bed.outputs.push(stdout, stderr)
    expect(leaks(bed, stdout + stderr)).toEqual([])
    return { code, stdout, stderr }
  })()
  return { proc, done }
}

/**
 * The secrets found in `text`, as the names of where they came from (never the secrets themselves):
 * whole, URL-encoded, or any 8 consecutive characters of one, since a clipped or half-redacted
 * secret leaks too.
 */
export function leaks(bed: Bed, text: string): string[] {
  return secretsIn(bed.secrets, text)
}

function secretsIn(secrets: string[], text: string): string[] {
  return secrets.flatMap((secret, index) => (holdsPieceOf(text, secret) ? [`secret #${index}`] : []))
}

const PIECE = 8

function holdsPieceOf(text: string, secret: string): boolean {
  if (text.includes(secret) || text.includes(encodeURIComponent(secret))) return true
  for (let at = 0; at + PIECE <= secret.length; at++) if (text.includes(secret.slice(at, at + PIECE))) return true
  return false
}

/** The run history must never hold a secret either: checked at the end of each file by stopBed or Beds.stop. */
async function historyLeaks(sql: Sql, secrets: string[]): Promise<string[]> {
  const rows = await sql<{ error: string }[]>`
    SELECT concat_ws(' ', error, owner_refresh_error) AS error FROM gingr_sync_runs
    WHERE error IS NOT NULL OR owner_refresh_error IS NOT NULL`
  return secretsIn(secrets, rows.map((row) => row.error).join('\n'))
}

/** The ERROR lines of a run's log. */
export function errorLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => / ERROR /.test(line))
}

/**
 * The tenant's rows in every table the sync writes, each as `table id xmin md5(row)`: a row that
 * was written has a new version even if its values did not change, an added or removed row shows,
 * and so does a changed value. The tenant's own row carries the stamp.
 */
export async function snapshot(sql: Sql, tenantId: string): Promise<string[]> {
  const rows = await sql<{ v: string }[]>`
    SELECT 'reservations ' || r.id || ' ' || r.xmin::text || ' ' || md5(r::text) AS v FROM reservations r WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT 'customers ' || c.id || ' ' || c.xmin::text || ' ' || md5(c::text) FROM customers c WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT 'pets ' || p.id || ' ' || p.xmin::text || ' ' || md5(p::text) FROM pets p WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT 'services ' || s.id || ' ' || s.xmin::text || ' ' || md5(s::text) FROM services s WHERE "tenantId" = ${tenantId}
    UNION ALL SELECT 'tenants ' || t.id || ' ' || t.xmin::text || ' ' || md5(t::text) FROM tenants t WHERE id = ${tenantId}
    ORDER BY 1`
  return rows.map((row) => row.v)
}

/** The latest run recorded for the tenant. */
export async function lastRun(sql: Sql, tenantId: string): Promise<{ status: string; error: string | null } | undefined> {
  const [row] = await sql<{ status: string; error: string | null }[]>`
    SELECT status, error FROM gingr_sync_runs WHERE tenant_id = ${tenantId} ORDER BY id DESC LIMIT 1`
  return row
}

/** The binary's default window, as the binary computes it. */
export const defaultWindow = () => syncWindow(ZONE, 7, 30)

/** What differs between the database and what Gingr holds in the default window (empty: equal). */
export function differences(bed: Bed): Promise<string[]> {
  const window = defaultWindow()
  return differencesFromGingr(bed.db.sql, bed.tenant, bed.sim.account.matching(window.from, window.to))
}

/**
 * Waits until some session holds the tenant's advisory lock, i.e. a run is inside its transaction,
 * and returns that session's backend pid.
 */
export async function waitForLock(sql: Sql, tenantId: string): Promise<number> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const [row] = await sql<{ pid: number }[]>`
      SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND granted
        AND classid = hashtext('gingr-sync')::oid AND objid = hashtext(${tenantId})::oid`
    if (row) return row.pid
    await Bun.sleep(25)
  }
  throw new Error('no run took the tenant lock within 20 s')
}

/** Waits until no session holds the tenant's advisory lock (a killed run's backend has rolled back). */
export async function waitForUnlock(sql: Sql, tenantId: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const [row] = await sql<{ held: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND classid = hashtext('gingr-sync')::oid AND objid = hashtext(${tenantId})::oid) AS held`
    if (!row?.held) return
    await Bun.sleep(25)
  }
  throw new Error('the tenant lock was still held after 20 s')
}

/**
 * Holds the tenant's row `FOR UPDATE` in a transaction of the test's own: a run then takes its lock,
 * writes the window and blocks on its stamp, inside its transaction, until `release()`. The
 * transaction is `sql.begin`'s: a reserve() that has to open a connection never completes
 * (test/_db.ts), and cases side by side all open one at once.
 */
export async function holdTenantRow(sql: Sql, tenantId: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let holding!: () => void
  const held = new Promise<void>((resolve) => (holding = resolve))
  const transaction = sql
    .begin(async (tx) => {
      await tx`SELECT 1 FROM tenants WHERE id = ${tenantId} FOR UPDATE`
      holding()
      await released
      throw new RolledBack()
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error
    })
  await Promise.race([held, transaction])
  return {
    release: async () => {
      release()
      await transaction
    },
  }
}

/** Thrown to end a test's own transaction with a ROLLBACK. */
class RolledBack extends Error {}
