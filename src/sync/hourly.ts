/**
 * The hourly run over many tenants: which tenants, each one's plan (its Gingr account and window),
 * then each synced on its own (one failing never stops the others), and the run's exit code.
 * Callable without a CLI: `new HourlyRun(options).run()`; the command only parses and prints.
 */
import { type GingrAccountSettings, gingrAccountFor, type Settings, tenantPingUrl, vanishedFor, windowDaysFor } from '../config.ts'
import type { Sql } from '../db/connect.ts'
import { claimNextTenant, databaseNow, ensureStateRows, leaseOwners, releaseLease, releaseLeases, renewLeases } from '../db/leases.ts'
import { findTenant, listSyncableTenants, type Tenant, unknownTenantIds } from '../db/tenants.ts'
import { ExitCode, TenantSettingError, UsageError } from '../errors.ts'
import type { DateRange } from '../gingr/chunks.ts'
import type { GingrClientOptions } from '../gingr/client.ts'
import { AccountPacers } from '../gingr/pacer.ts'
import type { PingEvent } from '../ping.ts'
import { timing } from '../timing.ts'
import { isDeadLocalOwner, LOCAL_OWNER_PREFIX, ownerOfThisProcess } from './owner.ts'
import { failTenant, type ProgressEvent, recordInterruption, syncTenant, type TenantResult } from './run.ts'
import { isKnownTimeZone, syncWindow } from './window.ts'

export interface HourlyFlags {
  pastDays?: number
  futureDays?: number
  vanished?: 'cancel' | 'report'
  maxCancel?: number
}

export interface HourlyOptions {
  sql: Sql
  settings: Settings
  /** One tenant, asked for by hand (exit 2 when it does not exist); default every enabled tenant. */
  tenantId?: string
  dryRun: boolean
  flags: HourlyFlags
  /** For every tenant's client: the request timeout, the response limit, the run's abort signal. */
  gingr: Omit<GingrClientOptions, 'subdomain' | 'apiKey' | 'baseUrl' | 'timeZone'>
  /** Counts the statements sent on `sql`. */
  statements?: () => number
  /** Tenants synced at once (default 1), each on a connection of its own made by `connect`. */
  concurrency?: number
  /**
   * A database client of one connection for each tenant synced at once, whose statements are then
   * that tenant's alone (counted for its report); default `sql` and `statements`, for a serial run.
   */
  connect?: () => { sql: Sql; statements: () => number }
  /**
   * The run among other hosts' (src/db/leases.ts): each tenant is claimed before its fetch, and
   * one synced less than `minIntervalMs` ago is left alone. Not for `--tenant` (by hand, it always
   * runs) nor for a dry run (which writes nothing, so claims nothing).
   */
  minIntervalMs?: number
  /** Who claims: default this process (src/sync/owner.ts). */
  owner?: string
  /** Told of a tenant asked for by --tenant that the hourly run would not sync. */
  onNotEnabled?: (tenant: Tenant) => void
  /** Told of a config file entry for a tenant the database does not have. */
  onUnknownTenant?: (id: string) => void
  onStart?: (tenant: Tenant) => void
  onProgress?: (tenant: Tenant, event: ProgressEvent) => void
  onResult?: (result: TenantResult) => void
  /** Sends a tenant's own monitoring ping (`pingUrl` in --config); never for a dry run. */
  ping?: (tenant: Tenant, url: string, event: PingEvent) => Promise<void>
}

/**
 * --min-interval's default, in minutes: a little under the hourly period, so that a host arriving
 * late (a slow start, a clock off) never syncs a tenant again within the hour, while the next
 * hour's run, which takes tenants the longest unsynced first, finds each one due.
 */
export const DEFAULT_MIN_INTERVAL_MINUTES = 45

export interface HourlyReport {
  /** Every tenant the run considered, the ones it did not take included. */
  tenantIds: string[]
  /** The tenants this run worked on, in the order of the tenant list. */
  results: TenantResult[]
  /** Tenants of the list this run did not take. */
  skipped: number
}

/** The run's tenants by outcome: the summary line and the metrics. */
export type Outcomes = Record<TenantResult['status'] | 'skipped', number>

export function outcomesOf(report: HourlyReport): Outcomes {
  const count = (status: TenantResult['status']) => report.results.filter((r) => r.status === status).length
  return { synced: count('synced'), failed: count('failed'), locked: count('locked'), skipped: report.skipped }
}

/** What a tenant's run needs, settled before anything runs; `pingUrl` is its own monitor's, when it has a good one. */
type Plan = { tenant: Tenant; pingUrl?: string } & ({ account: GingrAccountSettings; window: DateRange } | { problem: string })

interface InFlight {
  tenant: Tenant
  window: DateRange
  startedAt: Date
}

export class HourlyRun {
  readonly #options: HourlyOptions
  /** The tenants being synced, so that a run stopped by a signal or the deadline records each. */
  readonly #inFlight = new Map<string, InFlight>()
  /** Tenants that share a Gingr account share its pace and its 429 back-off. */
  readonly #pacers: AccountPacers
  /** The connections made for the workers, ended when they are done or the run is stopped. */
  readonly #connections = new Set<Sql>()
  readonly #owner: string
  /** The tenants done so far, in the order they ended: what a stopped run still reports. */
  readonly #results: TenantResult[] = []
  #plans: Plan[] = []
  /** Set by stop(). */
  #stopping = false
  /** The tenants a stop cut short: rolled back rather than failed. */
  readonly #stopped = new Set<string>()

  constructor(options: HourlyOptions) {
    this.#options = options
    this.#pacers = new AccountPacers(options.gingr.paceMs ?? timing().paceMs)
    this.#owner = options.owner ?? ownerOfThisProcess()
  }

  /** Claims through leases: the scheduled run, which other hosts may be running too. */
  get #coordinated(): boolean {
    return this.#options.tenantId === undefined && !this.#options.dryRun
  }

  async run(): Promise<HourlyReport> {
    const { sql, settings } = this.#options
    const tenants = await selectTenants(sql, this.#options)
    // A typo in a config file's tenant id: that tenant would sync with the shared account, unsaid.
    for (const id of await unknownTenantIds(sql, Object.keys(settings.config.tenants))) this.#options.onUnknownTenant?.(id)
    // Every tenant's account and window are settled before anything runs. The run-wide settings
    // were checked already; what is wrong for one tenant alone fails that tenant alone.
    const plans = tenants.map((tenant) => planTenant(settings, tenant, this.#options.flags))
    this.#plans = plans
    const next = this.#coordinated ? await this.#claims(plans) : queueOf(plans)
    const worker = async () => {
      const db = this.#options.connect?.() ?? { sql: this.#options.sql, statements: this.#options.statements }
      if (db.sql !== this.#options.sql) this.#connections.add(db.sql)
      try {
        while (!this.#isStopping) {
          const plan = await next()
          if (!plan) break
          const result = await this.#syncOne(plan, db)
          // A tenant cut short by the stop was rolled back, not failed: the next run, on any host,
          // may take it at once, whatever --min-interval says.
          const stopped = this.#isStopping && result.status === 'failed'
          if (stopped) this.#stopped.add(plan.tenant.id)
          else this.#results.push(result)
          const outcome = stopped ? 'stopped' : result.status === 'failed' ? 'failed' : 'done'
          if (this.#coordinated) await releaseLease(sql, this.#owner, plan.tenant.id, outcome).catch(() => {})
        }
      } finally {
        if (this.#connections.delete(db.sql)) await db.sql.end({ timeout: timing().closeTimeoutMs / 1000 })
      }
    }
    const workers = Math.max(1, Math.min(this.#options.concurrency ?? 1, plans.length))
    const renewal = this.#coordinated ? this.#renewLeases() : undefined
    try {
      await Promise.all(Array.from({ length: workers }, worker))
    } finally {
      clearInterval(renewal)
    }
    return this.#report()
  }

  get #isStopping(): boolean {
    return this.#stopping || this.#options.gingr.signal?.aborted === true
  }

  /** The tenants done so far in the order of the tenant list; those in flight at a stop are counted apart. */
  #report(): HourlyReport & { stopped: number } {
    const order = new Map(this.#plans.map((plan, index) => [plan.tenant.id, index]))
    const results = this.#results.filter((r) => !this.#stopped.has(r.tenantId))
    results.sort((a, b) => (order.get(a.tenantId) ?? 0) - (order.get(b.tenantId) ?? 0))
    const stopped = this.#stopped.size
    return {
      tenantIds: this.#plans.map((plan) => plan.tenant.id),
      results,
      skipped: this.#plans.length - results.length - stopped,
      stopped,
    }
  }

  /**
   * The next plan is the next tenant this run claims; none when every tenant was synced or failed
   * recently, is held by another run, or was claimed since this run began (by any host).
   */
  async #claims(plans: Plan[]): Promise<() => Promise<Plan | undefined>> {
    const { sql } = this.#options
    const byId = new Map(plans.map((plan) => [plan.tenant.id, plan]))
    const tenantIds = [...byId.keys()]
    await ensureStateRows(sql, tenantIds)
    // A run of this machine killed before it could free its tenants: no need to wait out its leases.
    for (const owner of await leaseOwners(sql, LOCAL_OWNER_PREFIX)) {
      if (isDeadLocalOwner(owner)) await releaseLeases(sql, owner)
    }
    const claim = {
      owner: this.#owner,
      tenantIds,
      leaseMs: timing().leaseMs,
      minIntervalMs: this.#options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MINUTES * 60_000,
      roundStartedAt: await databaseNow(sql),
    }
    return async () => {
      const id = await claimNextTenant(sql, claim)
      return id === null ? undefined : byId.get(id)
    }
  }

  /** Keeps the leases of the tenants in flight alive, so that only a host that died loses them. */
  #renewLeases(): ReturnType<typeof setInterval> {
    const renewal = setInterval(() => {
      renewLeases(this.#options.sql, this.#owner, [...this.#inFlight.keys()], timing().leaseMs).catch(() => {})
    }, timing().leaseRenewMs)
    renewal.unref()
    return renewal
  }

  /**
   * The run was stopped (a signal, its deadline): each tenant in flight is recorded as stopped
   * (best effort: the caller bounds the wait), then every connection is closed at once, which
   * makes PostgreSQL roll each open transaction back. Returns what the run did before the stop.
   */
  async stop(reason: string): Promise<HourlyReport & { stopped: number }> {
    const { sql } = this.#options
    this.#stopping = true
    for (const id of this.#inFlight.keys()) this.#stopped.add(id)
    if (!this.#options.dryRun) {
      const runs = [...this.#inFlight.values()]
      await Promise.all(runs.map((run) => recordInterruption(sql, { ...run, dryRun: false, reason }).catch(() => {})))
    }
    await Promise.all([...this.#connections].map((connection) => connection.end({ timeout: 0 })))
    // The next run, on any host, may take them at once rather than when their leases run out.
    if (this.#coordinated) await releaseLeases(sql, this.#owner).catch(() => {})
    return this.#report()
  }

  /** One tenant, between its own pings. */
  async #syncOne(plan: Plan, { sql, statements }: { sql: Sql; statements?: () => number }): Promise<TenantResult> {
    const { tenant } = plan
    this.#options.onStart?.(tenant)
    await this.#ping(plan, 'start')
    const result = await this.#syncPlanned(plan, { sql, statements })
    await this.#ping(plan, result.status === 'failed' ? 'fail' : 'success')
    this.#options.onResult?.(result)
    return result
  }

  async #ping({ tenant, pingUrl }: Plan, event: PingEvent): Promise<void> {
    if (pingUrl !== undefined && !this.#options.dryRun) await this.#options.ping?.(tenant, pingUrl, event)
  }

  async #syncPlanned(plan: Plan, { sql, statements }: { sql: Sql; statements?: () => number }): Promise<TenantResult> {
    const { dryRun, settings, flags } = this.#options
    const { tenant } = plan
    if ('problem' in plan) {
      return failTenant({ sql, tenant, dryRun, error: plan.problem })
    }
    const { window, account } = plan
    this.#inFlight.set(tenant.id, { tenant, window, startedAt: new Date() })
    try {
      return await syncTenant({
        sql,
        tenant,
        window,
        dryRun,
        statements,
        gingr: { ...account, ...this.#options.gingr, timeZone: tenant.timezone, pacer: this.#pacers.of(account) },
        onProgress: (event) => this.#options.onProgress?.(tenant, event),
        vanished: vanishedFor(settings, tenant.id, flags),
      })
    } finally {
      this.#inFlight.delete(tenant.id)
    }
  }
}

/**
 * The tenants a run takes (the hourly one's and the full sync's): every enabled one, or the one
 * asked for by hand, which runs even when not enabled (`onNotEnabled` says so) and must exist.
 */
export async function selectTenants(sql: Sql, options: { tenantId?: string; onNotEnabled?: (tenant: Tenant) => void }): Promise<Tenant[]> {
  if (options.tenantId === undefined) return listSyncableTenants(sql)
  const tenant = await findTenant(sql, options.tenantId)
  if (!tenant) throw new UsageError(`Tenant ${options.tenantId} does not exist.`)
  if (!tenant.enabled) options.onNotEnabled?.(tenant)
  return [tenant]
}

function queueOf(plans: readonly Plan[]): () => Promise<Plan | undefined> {
  const queue = [...plans]
  return async () => queue.shift()
}

/** A bad account fails the tenant, pinged when its ping URL is good; a bad ping URL fails it unpinged. */
function planTenant(settings: Settings, tenant: Tenant, flags: HourlyFlags): Plan {
  const account = tenantAccount(settings, tenant)
  const url = pingUrlOf(settings, tenant)
  const pingUrl = typeof url === 'string' ? { pingUrl: url } : {}
  if ('problem' in account) return { tenant, ...pingUrl, problem: account.problem }
  if (typeof url === 'object') return { tenant, problem: url.problem }
  const { pastDays, futureDays } = windowDaysFor(settings, tenant.id, flags)
  return { tenant, ...pingUrl, account, window: syncWindow(tenant.timezone, pastDays, futureDays) }
}

/**
 * A tenant's Gingr account, once its own settings are known good (the hourly run's and the full
 * sync's): a setting wrong for this tenant alone is its problem, said as a sentence, not a throw.
 */
export function tenantAccount(settings: Settings, tenant: Tenant): GingrAccountSettings | { problem: string } {
  try {
    const account = gingrAccountFor(settings, tenant.id)
    if (!isKnownTimeZone(tenant.timezone)) {
      throw new TenantSettingError(
        `its time zone ${JSON.stringify(tenant.timezone)} (tenants.timezone) is not an IANA time zone such as America/Denver.`,
      )
    }
    return account
  } catch (error) {
    return tenantProblem(tenant, error)
  }
}

/** The tenant's own monitoring URL; a bad one is this tenant's problem (it fails unpinged). */
function pingUrlOf(settings: Settings, tenant: Tenant): string | undefined | { problem: string } {
  try {
    return tenantPingUrl(settings, tenant.id)
  } catch (error) {
    return tenantProblem(tenant, error)
  }
}

function tenantProblem(tenant: Tenant, error: unknown): { problem: string } {
  if (error instanceof TenantSettingError) return { problem: `Tenant ${tenant.businessName} (${tenant.id}): ${error.message}` }
  throw error
}

/**
 * 1 when a tenant failed, else 3 when there is something to look at (records skipped,
 * cancellations the guard withheld, an owner refresh that failed or skipped owners), else 0.
 * A locked or skipped tenant is not a failure.
 */
export function hourlyExitCode(results: readonly TenantResult[]): number {
  if (results.some((r) => r.status === 'failed')) return ExitCode.Failed
  const refreshNeedsALook = (r: TenantResult) =>
    r.ownerRefresh !== null && (r.ownerRefresh.error !== undefined || r.ownerRefresh.invalid.length > 0)
  if (results.some((r) => r.invalid.length > 0 || r.vanished.withheld.length > 0 || refreshNeedsALook(r))) return ExitCode.Partial
  return ExitCode.Ok
}
