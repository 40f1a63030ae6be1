/**
 * The many-tenant run: hundreds of tenants, each with a Gingr account of its own (a simulator of
 * its own, its own subdomain, key and base URL in a --config file), every request answered after
 * the same latency, as a Gingr across the internet answers. The compiled binary syncs them all:
 * serially, with `--concurrency N`, and as two processes of N started at the same moment (two
 * hosts on one database). Each mode starts from a fresh database holding the tenants.
 *
 * Measured: wall time (spawn to the last exit), tenants synced and tenants synced more than once
 * (from gingr_sync_runs), the outcomes each process reported (--json), Gingr requests (counted by
 * the simulators), peak RSS of each process, and the peak of the binaries' PostgreSQL connections
 * (pg_stat_activity polled every 20 ms for the database and application_name 'gingr-sync').
 * A binary without `--concurrency` (its --help does not list it) runs the serial mode only; the
 * other modes are reported as not available from it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { connect, type Sql } from '../src/db/connect.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { runProcessLikeCron } from './binary.ts'
import { type BenchDatabase, type DatabaseFactory, TENANT_ZONE } from './databases.ts'

export interface ManyPlan {
  tenants: number
  /** Milliseconds every Gingr request waits before its answer. */
  latencyMs: number
  /** `--concurrency` of the concurrent modes. */
  concurrency: number
  /** Reservations generated per account: a small resort's, so that Gingr's latency dominates. */
  reservations: number
}

export const MANY_PLAN: ManyPlan = { tenants: 200, latencyMs: 300, concurrency: 8, reservations: 60 }

export interface ManyMode {
  name: string
  processes: number
  /** The --concurrency given; null: none (a binary without the option, which is serial). */
  concurrency: number | null
  /** Set when this binary cannot run the mode: the sentence saying why. */
  unavailable?: string
  wallMs: number
  /** Tenants with at least one successful run in gingr_sync_runs. */
  tenantsSynced: number
  /** Tenants with more than one: work done twice. */
  syncedTwice: number
  /** Each tenant outcome the processes reported in --json (synced, locked, failed, ...), summed. */
  outcomes: Record<string, number>
  gingrRequests: number
  peakRssKb: number[]
  peakConnections: number
}

export interface ManyResult {
  plan: ManyPlan
  modes: ManyMode[]
}

export interface ManyOptions {
  databases: DatabaseFactory
  binary: string
  plan: ManyPlan
  log: (line: string) => void
  /** Added to each process's environment (a test's GINGR_SYNC_TEST_TIMING). */
  env?: Record<string, string>
}

/** Generous: the serial mode of 200 tenants at 300 ms takes about 3 minutes on an idle machine. */
const MODE_LIMIT_MS = 20 * 60_000

export async function benchMany(options: ManyOptions): Promise<ManyResult> {
  const { plan, log } = options
  const sims = await Promise.all(
    Array.from({ length: plan.tenants }, (_, i) =>
      startSimulator({
        seed: i + 1,
        reservations: plan.reservations,
        owners: Math.ceil(plan.reservations / 3),
        animals: Math.ceil(plan.reservations / 2),
        timeZone: TENANT_ZONE,
        latencyMs: plan.latencyMs,
      }),
    ),
  )
  const dir = mkdtempSync(join(tmpdir(), 'gingr-sync-bench-many-'))
  try {
    const tenants = sims.map((sim, i) => ({ id: `many-${String(i + 1).padStart(4, '0')}`, subdomain: `many${i + 1}`, sim }))
    const config = join(dir, 'tenants.json')
    const entries = tenants.map((t) => [t.id, { subdomain: t.subdomain, apiKey: t.sim.apiKey, baseUrl: t.sim.baseUrl }])
    writeFileSync(config, JSON.stringify({ tenants: Object.fromEntries(entries) }))
    chmodSync(config, 0o600)
    const concurrent = await hasConcurrency(options.binary)
    log(`many tenants: ${plan.tenants} accounts, ${plan.latencyMs} ms per Gingr request`)
    const context: ModeContext = { ...options, sims, tenants, config }
    // A binary with --concurrency has a default above 1: serial must be asked for.
    const modes: ManyMode[] = [await runMode(context, 'serial', 1, concurrent ? 1 : null)]
    for (const [name, processes] of [
      [`--concurrency ${plan.concurrency}`, 1],
      [`two processes of --concurrency ${plan.concurrency}, started at once`, 2],
    ] as const) {
      if (concurrent) modes.push(await runMode(context, name, processes, plan.concurrency))
      else {
        const unavailable = 'not available from this binary: it has no --concurrency option'
        log(`many tenants, ${name}: ${unavailable}`)
        modes.push({ ...emptyMode(name, processes, plan.concurrency), unavailable })
      }
    }
    return { plan, modes }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await Promise.all(sims.map((sim) => sim.stop()))
  }
}

/** Whether the binary's --help lists --concurrency: the way to tell its build without running a sync. */
export async function hasConcurrency(binary: string): Promise<boolean> {
  const proc = Bun.spawn([binary, '--help'], { env: { PATH: '/usr/bin:/bin' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
  return /--concurrency\b/.test(out + err)
}

interface ModeContext extends ManyOptions {
  sims: Simulator[]
  tenants: { id: string; subdomain: string }[]
  config: string
}

function emptyMode(name: string, processes: number, concurrency: number | null): ManyMode {
  return {
    name,
    processes,
    concurrency,
    wallMs: 0,
    tenantsSynced: 0,
    syncedTwice: 0,
    outcomes: {},
    gingrRequests: 0,
    peakRssKb: [],
    peakConnections: 0,
  }
}

/** The part of --json read here: each tenant's outcome. */
const Outcomes = v.object({ tenants: v.array(v.object({ status: v.string() })) })

async function runMode(context: ModeContext, name: string, processes: number, concurrency: number | null): Promise<ManyMode> {
  const database = await context.databases.fresh()
  try {
    await addTenants(database, context.tenants)
    const first = context.sims[0]!
    const settings = { databaseUrl: database.url, gingrBaseUrl: first.baseUrl, gingrApiKey: first.apiKey, env: context.env }
    // The binary's own objects (its lease columns, say) may be newer than the bench's migrate.
    await runProcessLikeCron(context.binary, settings, ['migrate'])
    const requestsBefore = requestCount(context.sims)
    const args = ['--config', context.config, ...(concurrency === null ? [] : ['--concurrency', String(concurrency)])]
    const connections = pollConnections(context.databases.admin, database.name)
    const started = performance.now()
    const runs = await Promise.all(
      Array.from({ length: processes }, () => runProcessLikeCron(context.binary, settings, args, { limitMs: MODE_LIMIT_MS })),
    ).finally(() => connections.stop())
    const mode: ManyMode = {
      ...emptyMode(name, processes, concurrency),
      wallMs: performance.now() - started,
      ...(await syncedTenants(database.url)),
      outcomes: countOutcomes(runs.map((run) => run.stdout)),
      gingrRequests: requestCount(context.sims) - requestsBefore,
      peakRssKb: runs.map((run) => run.peakRssKb),
      peakConnections: await connections.peak,
    }
    context.log(
      `many tenants, ${name}: ${(mode.wallMs / 1000).toFixed(1)} s, ${mode.tenantsSynced} synced (${mode.syncedTwice} twice), ` +
        `${mode.gingrRequests} Gingr requests, peak RSS ${mode.peakRssKb.map((kb) => Math.round(kb / 1024)).join(' + ')} MB, ` +
        `${mode.peakConnections} connections at most`,
    )
    return mode
  } finally {
    await database.drop()
  }
}

/** The template's own tenant is switched off: the run is over these tenants alone. */
async function addTenants(database: BenchDatabase, tenants: { id: string; subdomain: string }[]): Promise<void> {
  const { sql } = database
  await sql`UPDATE tenants SET gingr_sync_enabled = false`
  await sql`
    INSERT INTO tenants (id, "businessName", subdomain, "contactName", "contactEmail", status, "isActive",
                         gingr_sync_enabled, timezone, "updatedAt")
    SELECT id, 'Resort ' || id, subdomain, 'Front Desk', subdomain || '@bench.example', 'ACTIVE'::"TenantStatus", true,
           true, ${TENANT_ZONE}, now() AT TIME ZONE 'UTC'
    FROM jsonb_to_recordset(${sql.json(tenants.map(({ id, subdomain }) => ({ id, subdomain })))}::jsonb) AS t(id text, subdomain text)`
  // The bench's own connection would count as one of the binaries' otherwise.
  await sql.end({ timeout: 5 })
}

async function syncedTenants(url: string): Promise<{ tenantsSynced: number; syncedTwice: number }> {
  const sql = connect(url, { max: 1 })
  try {
    const [row] = await sql<{ synced: number; twice: number }[]>`
      SELECT count(*)::int AS synced, count(*) FILTER (WHERE runs > 1)::int AS twice
      FROM (SELECT tenant_id, count(*) AS runs FROM gingr_sync_runs
            WHERE kind = 'reservations' AND status = 'synced' AND NOT dry_run GROUP BY tenant_id) AS per_tenant`
    return { tenantsSynced: row?.synced ?? 0, syncedTwice: row?.twice ?? 0 }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

function countOutcomes(outputs: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const output of outputs) {
    for (const { status } of v.parse(Outcomes, JSON.parse(output)).tenants) counts[status] = (counts[status] ?? 0) + 1
  }
  return counts
}

const requestCount = (sims: readonly Simulator[]) => sims.reduce((sum, sim) => sum + sim.requests.length, 0)

/** The most connections the binaries held at once on the database, polled until stop(). */
function pollConnections(admin: Sql, database: string): { stop(): void; peak: Promise<number> } {
  let running = true
  const peak = (async () => {
    let most = 0
    while (running) {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${database} AND application_name = 'gingr-sync'`
      most = Math.max(most, row?.n ?? 0)
      await Bun.sleep(20)
    }
    return most
  })()
  return {
    stop: () => {
      running = false
    },
    peak,
  }
}
