import { defineCommand } from 'citty'
import {
  checkGingrSettings,
  type GingrAccountSettings,
  gingrAccountFor,
  maxResponseBytes,
  maxRuntimeMs,
  requireDatabaseUrl,
  type Settings,
  statementTimeoutMs,
  vanishedFor,
  windowDaysFor,
} from '../config.ts'
import { findTenant, listSyncableTenants, type Tenant, unknownTenantIds } from '../db/tenants.ts'
import { ExitCode, TenantSettingError, UsageError } from '../errors.ts'
import type { DateRange } from '../gingr/chunks.ts'
import type { Logger } from '../log.ts'
import { writeResult } from '../output.ts'
import { ping } from '../ping.ts'
import { redact } from '../secrets.ts'
import { failTenant, type ProgressEvent, recordInterruption, syncTenant, type TenantResult } from '../sync/run.ts'
import { isKnownTimeZone, syncWindow } from '../sync/window.ts'
import { timing } from '../timing.ts'
import { monitorUrl, openDatabase, prepare, syncArgs, wholeNumber } from './_shared.ts'
import { onSignals, unlessStopped } from './_signals.ts'

const MAX_INVALID_LINES = 20

export default defineCommand({
  meta: { name: 'sync', description: 'Copy the window of Gingr reservations into the database (the default command)' },
  args: syncArgs,
  async run({ args }) {
    const flags = {
      pastDays: wholeNumber('past-days', args['past-days'], 0, 365),
      futureDays: wholeNumber('future-days', args['future-days'], 0, 365),
      timeoutSeconds: wholeNumber('timeout', args.timeout, 1, 600),
      vanished: vanishedMode(args.vanished),
      maxCancel: wholeNumber('max-cancel', args['max-cancel'], 0, 1_000_000),
    }
    // Without --timeout the client keeps its own default (src/timing.ts).
    const timeoutMs = flags.timeoutSeconds === undefined ? undefined : flags.timeoutSeconds * 1000
    const { log, settings } = prepare(args)
    const databaseUrl = requireDatabaseUrl(settings)
    checkGingrSettings(settings)
    const runtimeLimitMs = maxRuntimeMs(settings, args['max-runtime'])
    const responseLimit = maxResponseBytes(settings)
    const dryRun = Boolean(args['dry-run'])
    const monitor = monitorUrl(args['ping-url'], settings, dryRun)

    const { sql, statements, explain } = openDatabase(databaseUrl, { statementTimeoutMs: statementTimeoutMs(settings) })
    const abort = new AbortController()
    // The tenant being synced, so that a run stopped by a signal or the deadline leaves its record.
    let inFlight: { tenant: Tenant; window: DateRange; startedAt: Date } | undefined
    const stop = onSignals(
      log,
      abort,
      async (reason) => {
        if (inFlight && !dryRun) await recordInterruption(sql, { ...inFlight, dryRun, reason }).catch(() => {})
        await sql.end({ timeout: 0 })
      },
      runtimeLimitMs,
    )
    await ping(monitor, 'start', log)
    try {
      const results = await syncAll()
      await unlessStopped(abort)
      const code = exitCodeOf(results)
      await ping(monitor, code === ExitCode.Failed ? 'fail' : 'success', log)
      if (args.json) await writeResult(`${redact(JSON.stringify({ ok: code !== ExitCode.Failed, tenants: results }))}\n`)
      return code
    } catch (error) {
      // Before any tenant: the database is down or lacks the schema, a tenant is unknown...
      const failure = await explain(error)
      // ...and the monitor hears of it too.
      await ping(monitor, 'fail', log)
      throw failure
    } finally {
      stop()
      await sql.end({ timeout: timing().closeTimeoutMs / 1000 })
    }

    async function syncAll(): Promise<TenantResult[]> {
      const tenants = await selectTenants(sql, args.tenant, log)
      // A typo in a config file's tenant id: that tenant would sync with the shared account, unsaid.
      for (const id of await unknownTenantIds(sql, Object.keys(settings.config.tenants))) {
        log.warn(`⚠️  The config file names tenant ${JSON.stringify(id)}, which the database does not have: its settings apply to no one.`)
      }
      // Every tenant's account and window are settled before anything runs. The run-wide settings
      // were checked already; what is wrong for one tenant alone fails that tenant alone.
      const plans = tenants.map((tenant) => planTenant(settings, tenant, flags))
      const results: TenantResult[] = []
      for (const plan of plans) {
        if (abort.signal.aborted) break
        const { tenant } = plan
        printStart(log, tenant, dryRun)
        if ('problem' in plan) {
          const result = await failTenant({ sql, tenant, dryRun, error: plan.problem })
          printResult(log, result)
          results.push(result)
          continue
        }
        const { window, account } = plan
        inFlight = { tenant, window, startedAt: new Date() }
        const result = await syncTenant({
          sql,
          tenant,
          window,
          dryRun,
          statements,
          gingr: {
            ...account,
            timeZone: tenant.timezone,
            timeoutMs,
            signal: abort.signal,
            ...(responseLimit ? { maxResponseBytes: responseLimit } : {}),
          },
          onProgress: (event) => printProgress(log, event),
          vanished: vanishedFor(settings, tenant.id, flags),
        })
        inFlight = undefined
        printResult(log, result)
        results.push(result)
      }
      if (results.length > 1) printSummary(log, results)
      if (results.length === 0) log.info('No tenant has Gingr sync enabled (gingr_sync_enabled, "isActive", status ACTIVE): nothing to do.')
      return results
    }
  },
})

async function selectTenants(sql: ReturnType<typeof openDatabase>['sql'], id: string | undefined, log: Logger): Promise<Tenant[]> {
  if (id === undefined) return listSyncableTenants(sql)
  const tenant = await findTenant(sql, id)
  if (!tenant) throw new UsageError(`Tenant ${id} does not exist.`)
  if (!(tenant.syncEnabled && tenant.isActive && tenant.status === 'ACTIVE')) {
    log.warn(
      `⚠️  Tenant ${tenant.businessName} is not enabled for the hourly sync (gingr_sync_enabled, "isActive", status ACTIVE); syncing it because it was asked for.`,
    )
  }
  return [tenant]
}

type Plan = { tenant: Tenant; account: GingrAccountSettings; window: DateRange } | { tenant: Tenant; problem: string }

function planTenant(settings: Settings, tenant: Tenant, flags: { pastDays?: number; futureDays?: number }): Plan {
  try {
    const account = gingrAccountFor(settings, tenant.id)
    if (!isKnownTimeZone(tenant.timezone)) {
      throw new TenantSettingError(
        `its time zone ${JSON.stringify(tenant.timezone)} (tenants.timezone) is not an IANA time zone such as America/Denver.`,
      )
    }
    const { pastDays, futureDays } = windowDaysFor(settings, tenant.id, flags)
    return { tenant, account, window: syncWindow(tenant.timezone, pastDays, futureDays) }
  } catch (error) {
    if (error instanceof TenantSettingError) return { tenant, problem: `Tenant ${tenant.businessName} (${tenant.id}): ${error.message}` }
    throw error
  }
}

/**
 * 1 when a tenant failed, else 3 when there is something to look at (records skipped,
 * cancellations the guard withheld, an owner refresh that failed or skipped owners), else 0.
 * A locked tenant is not a failure.
 */
export function exitCodeOf(results: readonly TenantResult[]): number {
  if (results.some((r) => r.status === 'failed')) return ExitCode.Failed
  const refreshNeedsALook = (r: TenantResult) =>
    r.ownerRefresh !== null && (r.ownerRefresh.error !== undefined || r.ownerRefresh.invalid.length > 0)
  if (results.some((r) => r.invalid.length > 0 || r.vanished.withheld.length > 0 || refreshNeedsALook(r))) return ExitCode.Partial
  return ExitCode.Ok
}

/**
 * SIGTERM (systemd, a tired operator) ends the run at once: the fetch is aborted and the database
 * connection closed, which makes PostgreSQL roll the open transaction back. Exit 143 as shells expect.
 */
function printStart(log: Logger, tenant: Tenant, dryRun: boolean): void {
  log.info(`🔄 Starting Incremental Gingr Sync${dryRun ? ' (dry run: nothing will be written)' : ''}`)
  log.info(`   Tenant: ${tenant.businessName} (${tenant.id})`)
}

function printProgress(log: Logger, event: ProgressEvent): void {
  if (event.step === 'fetching') {
    log.info(`📅 Fetching reservations from ${event.window.from} to ${event.window.to}...`)
    return
  }
  log.info(`   Found ${event.count} reservations in Gingr`)
  for (const record of event.invalid.slice(0, MAX_INVALID_LINES)) {
    log.warn(`⚠️  Skipped invalid reservation ${record.reservationId ?? '(no readable id)'}: ${record.issue}`)
  }
  if (event.invalid.length > MAX_INVALID_LINES)
    log.warn(`⚠️  ...and ${event.invalid.length - MAX_INVALID_LINES} more invalid reservations (see --json)`)
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

function printResult(log: Logger, r: TenantResult): void {
  if (r.status === 'failed') {
    log.error(`❌ Sync failed for ${r.businessName} (${r.tenantId}) after ${seconds(r.durationMs)}: ${r.error}`)
    log.error('   Nothing was written for this tenant; last_gingr_sync_at is unchanged.')
    return
  }
  if (r.status === 'locked') {
    log.warn(`⏭️  Skipped ${r.businessName}: another gingr-sync run is syncing this tenant right now.`)
    return
  }
  const c = r.reservations
  log.info(
    `✅ Reservations: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.errors} errors`,
  )
  printVanished(log, r)
  printOwnerRefresh(log, r)
  log.info(`   Customers: ${r.customersCreated} created · Pets: ${r.petsCreated} created · Services: ${r.servicesCreated} created`)
  if (r.dryRun) log.info('🧪 Dry run: every change above was rolled back; nothing was written.')
  log.info(`✅ Sync complete in ${seconds(r.durationMs)}`)
}

/** Stays gone from Gingr's answer: one line of counts, then who, as warnings where it needs a look. */
function printVanished(log: Logger, r: TenantResult): void {
  const v = r.vanished
  if (v.vanished === 0) return
  const cancelled = r.dryRun ? 'would be cancelled' : 'cancelled'
  // The rest were found by their look-up as they are stored: Gingr matched the window another way.
  const asStored = v.vanished - v.moved.length - v.cancelled.length - v.withheld.length - v.reported.length - v.deferred.length
  log.info(
    `   Gone from Gingr's answer: ${v.vanished} (${v.moved.length} moved, ${v.cancelled.length} ${cancelled}, ${v.withheld.length} withheld, ${v.reported.length} reported, ${v.deferred.length} deferred, ${asStored} found as stored)`,
  )
  const list = (ids: readonly string[]) =>
    ids.length > MAX_INVALID_LINES
      ? `${ids.slice(0, MAX_INVALID_LINES).join(', ')} and ${ids.length - MAX_INVALID_LINES} more`
      : ids.join(', ')
  if (v.cancelled.length > 0) log.info(`   ${r.dryRun ? 'Would cancel' : 'Cancelled'} (deleted in Gingr): ${list(v.cancelled)}`)
  if (v.moved.length > 0) log.info(`   Moved in Gingr, new dates ${r.dryRun ? 'would be ' : ''}written: ${list(v.moved)}`)
  if (v.withheld.length > 0) log.warn(`⚠️  Withheld, not cancelled: ${list(v.withheld)}`)
  if (v.reported.length > 0) log.warn(`⚠️  Deleted in Gingr, only reported: ${list(v.reported)}`)
  if (v.deferred.length > 0) log.warn(`⚠️  Not looked up yet (next run): ${list(v.deferred)}`)
  for (const note of v.notes) log.warn(`⚠️  ${note}`)
}

/** The customers of owners changed in Gingr: one line, a warning when the refresh failed or skipped owners. */
function printOwnerRefresh(log: Logger, r: TenantResult): void {
  const o = r.ownerRefresh
  if (o === null) return
  const days = `${o.range.from} to ${o.range.to}`
  if (o.error !== undefined) {
    log.warn(`⚠️  ${o.error} The reservations above are synced; the next run asks for these days again.`)
    return
  }
  log.info(`   Owners changed in Gingr from ${days}: ${o.changed} · customers ${r.dryRun ? 'to update' : 'updated'}: ${o.updated}`)
  for (const item of o.invalid.slice(0, MAX_INVALID_LINES)) {
    log.warn(`⚠️  Skipped invalid owner ${item.id ?? '(no readable id)'}: ${item.issue}`)
  }
  if (o.emailConflicts.length > 0) {
    log.warn(
      `⚠️  Kept the email of ${o.emailConflicts.length} customer(s): another customer of the tenant holds the one Gingr has (Gingr owners ${o.emailConflicts.slice(0, MAX_INVALID_LINES).join(', ')})`,
    )
  }
}

function vanishedMode(value: string | undefined): 'cancel' | 'report' | undefined {
  if (value === undefined) return undefined
  if (value === 'cancel' || value === 'report') return value
  throw new UsageError(`--vanished must be cancel or report, not "${value}".`)
}

function printSummary(log: Logger, results: readonly TenantResult[]): void {
  log.info('📋 Summary')
  for (const r of results) {
    const c = r.reservations
    const detail =
      r.status === 'synced'
        ? `${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped`
        : r.status === 'locked'
          ? 'held by another run'
          : `ERROR: ${r.error}`
    const line = `   ${r.businessName}: ${r.status} (${detail}) in ${seconds(r.durationMs)}`
    if (r.status === 'failed') log.error(line)
    else log.info(line)
  }
}
