/**
 * The full sync of one tenant: every owner and animal Gingr lists, with the breed and species
 * look-ups, validated per record, then written in one transaction under the tenant's advisory lock
 * (the hourly run's: the two never write a tenant at once), set-based, a fixed number of
 * statements whatever the account's size. Callable without a CLI: `syncFullTenant(options)`.
 */
import type { GingrAccountSettings, Settings } from '../config.ts'
import type { Sql } from '../db/connect.ts'
import { deactivate, type FullRows, type FullWriteCounts, findMissing, type MissingRows, writeFull } from '../db/full-writes.ts'
import { type RunRecord, recordRun } from '../db/runs.ts'
import type { Tenant } from '../db/tenants.ts'
import { inTransaction } from '../db/transaction.ts'
import { ExitCode } from '../errors.ts'
import { GingrClient, type GingrClientOptions } from '../gingr/client.ts'
import type { InvalidItem } from '../gingr/schemas.ts'
import { timing } from '../timing.ts'
import { selectTenants, tenantAccount } from './hourly.ts'
import { lookupMap, mapFull } from './map-full.ts'
import { describeFailure, MAX_INVALID_SHARE, recordFailure } from './run.ts'

export type FullStatus = 'synced' | 'failed' | 'locked'

/** An invalid record of a full sync's answers: which list, its id when readable, what is wrong. */
export interface FullInvalid extends InvalidItem {
  kind: 'owner' | 'animal' | 'breed' | 'species'
}

/** One tenant's outcome: the `tenants[]` entry of `full --json`, and what the log block prints. */
export interface FullResult {
  tenantId: string
  businessName: string
  status: FullStatus
  dryRun: boolean
  fetched: { owners: number; animals: number }
  customers: { created: number; updated: number; unchanged: number; linked: number; skipped: number }
  pets: { created: number; updated: number; unchanged: number; skipped: number }
  /** Active rows Gingr no longer lists, by Gingr id, and what became of them. */
  missing: {
    customers: string[]
    pets: string[]
    deactivated: { customers: number; pets: number }
    /** --deactivate-missing was asked, but the guard kept them all active. */
    withheld: boolean
  }
  /** Gingr owner ids whose new email another customer holds: their customer kept its own. */
  emailConflicts: string[]
  /** Gingr animal ids whose owner has no customer (its record was invalid): no pet made yet. */
  petsWithoutOwner: string[]
  /** Ids Gingr listed more than once: each counts once, as the last one listed (the one written). */
  listedTwice: { owners: string[]; animals: string[] }
  invalid: FullInvalid[]
  /** Why the guard withheld deactivations, for the log and the run history. */
  notes: string[]
  durationMs: number
  statements: number
  error?: string
}

export interface FullRunOptions {
  sql: Sql
  tenant: Pick<Tenant, 'id' | 'businessName'>
  /** With the tenant's time zone: it decides a birthday's day. */
  gingr: GingrClientOptions
  dryRun: boolean
  /** Set `"isActive" = false` on what Gingr no longer lists (within the guard). */
  deactivateMissing?: boolean
  /** Deactivations one run may make per kind of row; default max(10, 10% of the active ones). */
  maxDeactivate?: number
  /**
   * How long to wait for the tenant's lock, held by an hourly run (seconds of work), before the
   * tenant is reported locked: the weekly full sync must not be skipped for a run that ends soon.
   */
  lockWaitMs?: number
  /** Counts the statements sent on `sql`. */
  statements?: () => number
  onProgress?: (event: FullProgress) => void
}

export type FullProgress =
  | { step: 'fetching' }
  | { step: 'fetched'; owners: number; animals: number; breeds: number; species: number; invalid: FullInvalid[] }

/** The guard's floor and share, as for vanished reservations: more than max(10, 10%) is withheld. */
const GUARD_FLOOR = 10
const GUARD_SHARE = 0.1
export const DEFAULT_LOCK_WAIT_MS = 120_000
/**
 * One Gingr request of a full sync, by default: `/animals` is the whole account in one answer
 * (7.7 MB for 18,469 animals from the simulator, tens of MB from real accounts), and the hourly
 * run's 30 s are for answers a tenth that size.
 */
export const DEFAULT_FULL_TIMEOUT_MS = 120_000

class DryRunRollback extends Error {}

function emptyResult(tenant: Pick<Tenant, 'id' | 'businessName'>, dryRun: boolean): FullResult {
  return {
    tenantId: tenant.id,
    businessName: tenant.businessName,
    status: 'failed',
    dryRun,
    fetched: { owners: 0, animals: 0 },
    customers: { created: 0, updated: 0, unchanged: 0, linked: 0, skipped: 0 },
    pets: { created: 0, updated: 0, unchanged: 0, skipped: 0 },
    missing: { customers: [], pets: [], deactivated: { customers: 0, pets: 0 }, withheld: false },
    emailConflicts: [],
    petsWithoutOwner: [],
    listedTwice: { owners: [], animals: [] },
    invalid: [],
    notes: [],
    durationMs: 0,
    statements: 0,
  }
}

export interface FullSyncAllOptions {
  sql: Sql
  settings: Settings
  /** One tenant (exit 2 when it does not exist); default every tenant the hourly run syncs. */
  tenantId?: string
  dryRun: boolean
  deactivateMissing: boolean
  maxDeactivate?: number
  lockWaitMs?: number
  /** For every tenant's client: the request timeout, the response limit, the run's abort signal. */
  gingr: Pick<GingrClientOptions, 'timeoutMs' | 'maxResponseBytes' | 'signal'>
  statements?: () => number
  /** Told of a tenant asked for by --tenant that the hourly run would not sync. */
  onNotEnabled?: (tenant: Tenant) => void
  onStart?: (tenant: Tenant) => void
  onProgress?: (event: FullProgress) => void
  onResult?: (result: FullResult) => void
}

/**
 * `gingr-sync full`'s core: the tenants (as the hourly run selects them, or the one asked for),
 * each planned first (its account, its zone: a setting wrong for one tenant fails that tenant
 * alone), then synced one after the other, each on its own.
 */
export async function fullSyncAll(options: FullSyncAllOptions): Promise<FullResult[]> {
  const tenants = await selectTenants(options.sql, options)
  const plans = tenants.map((tenant) => planTenant(options.settings, tenant))
  const results: FullResult[] = []
  for (const plan of plans) {
    if (options.gingr.signal?.aborted) break
    options.onStart?.(plan.tenant)
    const result =
      'problem' in plan
        ? await failFullTenant({ sql: options.sql, tenant: plan.tenant, dryRun: options.dryRun, error: plan.problem })
        : await syncFullTenant({
            sql: options.sql,
            tenant: plan.tenant,
            gingr: { ...plan.account, ...options.gingr, timeZone: plan.tenant.timezone },
            dryRun: options.dryRun,
            deactivateMissing: options.deactivateMissing,
            maxDeactivate: options.maxDeactivate,
            lockWaitMs: options.lockWaitMs,
            statements: options.statements,
            onProgress: options.onProgress,
          })
    options.onResult?.(result)
    results.push(result)
  }
  return results
}

type Plan = { tenant: Tenant; account: GingrAccountSettings } | { tenant: Tenant; problem: string }

function planTenant(settings: Settings, tenant: Tenant): Plan {
  const account = tenantAccount(settings, tenant)
  return 'problem' in account ? { tenant, problem: account.problem } : { tenant, account }
}

/**
 * 1 when a tenant failed or could not be written (another run held it past the wait), else 3 when
 * there is something to look at (invalid records skipped, deactivations the guard withheld, pets
 * with no customer to go under), else 0. What Gingr no longer lists, only reported, and emails
 * kept for a conflict are warnings, not a reason: they would hold every weekly run at 3.
 */
export function fullExitCode(results: readonly FullResult[]): number {
  if (results.some((r) => r.status !== 'synced')) return ExitCode.Failed
  if (results.some((r) => r.invalid.length > 0 || r.missing.withheld || r.petsWithoutOwner.length > 0)) return ExitCode.Partial
  return ExitCode.Ok
}

/** A tenant whose own settings are wrong fails alone, before any fetch, recorded like any failure. */
export async function failFullTenant(options: Pick<FullRunOptions, 'sql' | 'tenant' | 'dryRun'> & { error: string }): Promise<FullResult> {
  const result = { ...emptyResult(options.tenant, options.dryRun), error: options.error }
  if (!options.dryRun) await recordFailure(options.sql, runRecord(result, new Date()))
  return result
}

/** A full run stopped by a signal or its deadline, recorded (best effort) as a failure that says so. */
export async function recordFullInterruption(
  sql: Sql,
  run: { tenant: Pick<Tenant, 'id' | 'businessName'>; startedAt: Date; dryRun: boolean; reason: string },
): Promise<void> {
  const result = { ...emptyResult(run.tenant, run.dryRun), error: run.reason }
  result.durationMs = Date.now() - run.startedAt.getTime()
  await recordFailure(sql, runRecord(result, run.startedAt))
}

/**
 * One tenant's full sync: fetch and validate everything first (a failed fetch writes nothing),
 * then one transaction that takes the tenant's lock, writes, finds what Gingr no longer lists,
 * deactivates it if asked and allowed, and records the run. Any error rolls all of it back.
 */
export async function syncFullTenant(options: FullRunOptions): Promise<FullResult> {
  const started = new Date()
  const startedMs = performance.now()
  const statementsAtStart = options.statements?.() ?? 0
  const result = emptyResult(options.tenant, options.dryRun)
  const finish = (still = 0) => {
    result.durationMs = Math.round(performance.now() - startedMs)
    result.statements = (options.statements?.() ?? 0) - statementsAtStart + still
    return result
  }
  try {
    options.onProgress?.({ step: 'fetching' })
    const rows = await fetchAll(new GingrClient(options.gingr), result, options)
    const outcome = await writeWithLock(options, rows, (counts, missing) => {
      applyCounts(result, rows, counts, missing)
      result.status = 'synced'
      // After the record: its INSERT, then COMMIT (or a dry run's ROLLBACK).
      finish(2)
      return runRecord(result, started)
    })
    if (outcome === 'locked') {
      result.status = 'locked'
      result.error = `another gingr-sync run held the tenant for more than ${Math.round((options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS) / 1000)} s: nothing was written.`
      finish()
      if (!options.dryRun) await recordFailure(options.sql, runRecord(result, started))
      return result
    }
    result.durationMs = Math.round(performance.now() - startedMs)
    return result
  } catch (error) {
    result.status = 'failed'
    result.error = describeFailure(error, options.sql)
    finish()
    // A run stopped by a signal or its deadline is recorded by whoever stopped it.
    if (!options.dryRun && !options.gingr.signal?.aborted) await recordFailure(options.sql, runRecord(result, started))
    return result
  }
}

/**
 * The four answers, one after the other (the client paces them), each validated per record. A
 * look-up that fails fails the tenant: without it every breed and type would be guessed. More
 * than half of the owners (or animals) invalid fails it too: a format change, not a stray record.
 */
async function fetchAll(client: GingrClient, result: FullResult, options: FullRunOptions): Promise<FullRows> {
  const owners = await client.owners()
  const animals = await client.animals()
  const breeds = await client.breeds()
  const species = await client.species()
  const invalid: FullInvalid[] = [
    ...owners.invalid.map((item) => ({ kind: 'owner' as const, ...item })),
    ...animals.invalid.map((item) => ({ kind: 'animal' as const, ...item })),
    ...breeds.invalid.map((item) => ({ kind: 'breed' as const, ...item })),
    ...species.invalid.map((item) => ({ kind: 'species' as const, ...item })),
  ]
  result.fetched = { owners: owners.records.length + owners.invalid.length, animals: animals.records.length + animals.invalid.length }
  result.invalid = invalid
  result.customers.skipped = owners.invalid.length
  result.pets.skipped = animals.invalid.length
  result.listedTwice = { owners: listedTwice(owners.records), animals: listedTwice(animals.records) }
  options.onProgress?.({
    step: 'fetched',
    owners: result.fetched.owners,
    animals: result.fetched.animals,
    breeds: breeds.records.length,
    species: species.records.length,
    invalid,
  })
  for (const [noun, list] of [
    ['owners', owners],
    ['animals', animals],
  ] as const) {
    const total = list.records.length + list.invalid.length
    if (list.invalid.length > total * MAX_INVALID_SHARE) {
      throw new Error(
        `${list.invalid.length} of the ${total} ${noun} Gingr sent are invalid (more than ${MAX_INVALID_SHARE * 100}%): nothing was written, as most of them would be missing.`,
      )
    }
  }
  const readable = (items: readonly InvalidItem[]) => items.flatMap((item) => (item.id === null ? [] : [item.id]))
  return mapFull(
    owners.records,
    animals.records,
    { breeds: lookupMap(breeds.records), species: lookupMap(species.records) },
    { owners: readable(owners.invalid), animals: readable(animals.invalid) },
  )
}

/** The ids more than one record carries, each once, in order. */
function listedTwice(records: readonly { id: string }[]): string[] {
  const seen = new Set<string>()
  const twice = new Set<string>()
  for (const { id } of records) (seen.has(id) ? twice : seen).add(id)
  return [...twice].sort()
}

/**
 * The transaction, once the tenant's lock is free. The hourly run skips a tenant whose lock is
 * taken (its next run is an hour away); a full run waits for it, up to lockWaitMs, polling with a
 * short transaction of its own, so that the weekly run is not lost to a few seconds of overlap.
 */
async function writeWithLock(
  options: FullRunOptions,
  rows: FullRows,
  complete: (counts: FullWriteCounts, missing: Resolved) => RunRecord,
): Promise<'written' | 'locked'> {
  const waitUntil = Date.now() + (options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS)
  const pollMs = timing().lockPollMs
  for (;;) {
    const outcome = await writeInTransaction(options, rows, complete)
    if (outcome !== 'locked' || Date.now() + pollMs > waitUntil) return outcome
    await Bun.sleep(pollMs)
  }
}

/** What findMissing found, and what the guard let through. */
interface Resolved extends MissingRows {
  deactivated: { customers: number; pets: number }
  withheld: boolean
  notes: string[]
}

async function writeInTransaction(
  options: FullRunOptions,
  rows: FullRows,
  complete: (counts: FullWriteCounts, missing: Resolved) => RunRecord,
): Promise<'written' | 'locked'> {
  try {
    return await inTransaction(options.sql, async (tx) => {
      // The hourly run's key (src/sync/run.ts): the two kinds of run exclude each other per tenant.
      const [lock] = await tx<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(hashtext('gingr-sync'), hashtext(${options.tenant.id})) AS locked`
      if (!lock?.locked) return 'locked' as const
      await tx`SET LOCAL TimeZone = 'UTC'`
      const counts = await writeFull(tx, options.tenant.id, rows)
      const missing = await findMissing(tx, options.tenant.id, rows)
      const resolved: Resolved = { ...missing, deactivated: { customers: 0, pets: 0 }, withheld: false, notes: [] }
      if (options.deactivateMissing && (missing.customers.length > 0 || missing.pets.length > 0)) {
        const refusal = guard(rows, missing, options.maxDeactivate)
        if (refusal === null) resolved.deactivated = await deactivate(tx, options.tenant.id, missing)
        else resolved.withheld = true
        if (refusal !== null) resolved.notes.push(refusal)
      }
      await recordRun(tx, complete(counts, resolved))
      if (options.dryRun) throw new DryRunRollback()
      return 'written' as const
    })
  } catch (error) {
    if (error instanceof DryRunRollback) return 'written'
    throw error
  }
}

/**
 * The guard: a partial or empty answer looks exactly like a mass delete, so nothing is
 * deactivated when Gingr listed no owner (or no animal) at all while Tailtown holds some, or when
 * more than the limit (default max(10, 10% of the active rows) per kind) would be. Null: allowed.
 */
function guard(rows: FullRows, missing: MissingRows, maxDeactivate: number | undefined): string | null {
  const listed = {
    customers: rows.customers.length + rows.unreadable.owners.length,
    pets: rows.pets.length + rows.unreadable.animals.length,
  }
  const kinds = [
    { noun: 'owners', listed: listed.customers, active: missing.activeCustomers, gone: missing.customers.length },
    { noun: 'animals', listed: listed.pets, active: missing.activePets, gone: missing.pets.length },
  ]
  for (const kind of kinds) {
    if (kind.listed === 0 && kind.active > 0) {
      return `Gingr listed no ${kind.noun} at all while Tailtown holds ${kind.active}: nothing is deactivated on an empty answer.`
    }
    const limit = maxDeactivate ?? Math.max(GUARD_FLOOR, Math.floor(kind.active * GUARD_SHARE))
    if (kind.gone > limit) {
      return `${kind.gone} ${kind.noun} are no longer in Gingr's answer, more than the ${limit} one run may deactivate: none deactivated. If Gingr really lost them, raise --max-deactivate.`
    }
  }
  return null
}

function applyCounts(result: FullResult, rows: FullRows, counts: FullWriteCounts, missing: Resolved): void {
  const customersWritten = counts.customersWritten.length
  result.customers.created = counts.customersCreated
  result.customers.linked = counts.customersLinked.length
  result.customers.updated = customersWritten
  result.customers.unchanged = rows.customers.length - counts.customersCreated - customersWritten
  result.pets.created = counts.petsCreated
  result.pets.updated = counts.petsUpdated
  result.pets.unchanged = rows.pets.length - counts.petsCreated - counts.petsUpdated - counts.petsWithoutOwner.length
  result.emailConflicts = counts.emailConflicts
  result.petsWithoutOwner = counts.petsWithoutOwner
  result.missing = { customers: missing.customers, pets: missing.pets, deactivated: missing.deactivated, withheld: missing.withheld }
  result.notes = missing.notes
}

/** The run-history row of a full run (src/db/runs.ts says which column holds what). */
function runRecord(result: FullResult, started: Date): RunRecord {
  const { customers, pets, missing } = result
  return {
    kind: 'full',
    tenantId: result.tenantId,
    startedAt: started,
    finishedAt: new Date(),
    dryRun: result.dryRun,
    status: result.status === 'synced' ? 'synced' : 'failed',
    windowFrom: null,
    windowTo: null,
    fetched: result.fetched.owners + result.fetched.animals,
    created: customers.created + pets.created,
    updated: customers.updated + pets.updated,
    unchanged: customers.unchanged + pets.unchanged,
    skipped: customers.skipped + pets.skipped,
    customersCreated: customers.created,
    petsCreated: pets.created,
    servicesCreated: 0,
    durationMs: result.durationMs,
    statements: result.statements,
    vanished: missing.customers.length + missing.pets.length,
    moved: 0,
    cancelled: missing.deactivated.customers + missing.deactivated.pets,
    withheld: missing.withheld ? missing.customers.length + missing.pets.length : 0,
    ownersChanged: 0,
    ownersUpdated: 0,
    ownerRefreshError: null,
    error: result.error ?? null,
  }
}
