import { defineCommand } from 'citty'
import { checkGingrSettings, concurrencyOf, maxResponseBytes, maxRuntimeMs, requireDatabaseUrl, statementTimeoutMs } from '../config.ts'
import { SYNCED_TENANT_RULE, type Tenant } from '../db/tenants.ts'
import { ExitCode, errorMessage, UsageError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { checkMetricsPath, writeMetricsFile } from '../metrics-file.ts'
import { writeResult } from '../output.ts'
import { ping } from '../ping.ts'
import { redact } from '../secrets.ts'
import { type HourlyReport, HourlyRun, hourlyExitCode, type Outcomes, outcomesOf } from '../sync/hourly.ts'
import { metricsOfRun } from '../sync/metrics.ts'
import type { ProgressEvent, TenantResult } from '../sync/run.ts'
import { timing } from '../timing.ts'
import { type Lines, TenantBlocks } from './_blocks.ts'
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
      minIntervalMinutes: wholeNumber('min-interval', args['min-interval'], 0, 10_080),
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
    const concurrency = concurrencyOf(settings, args.concurrency)
    const metricsFile = args['metrics-file']
    if (metricsFile !== undefined) checkMetricsPath(metricsFile)
    const startedMs = performance.now()

    // One connection for the run (the tenant list, records), and one for each tenant in flight.
    const database = { statementTimeoutMs: statementTimeoutMs(settings), max: 1 }
    const { sql, statements, explain } = openDatabase(databaseUrl, database)
    const abort = new AbortController()
    const blocks = new TenantBlocks(log)
    const hourly = new HourlyRun({
      sql,
      settings,
      tenantId: args.tenant,
      dryRun,
      flags,
      gingr: { timeoutMs, signal: abort.signal, ...(responseLimit ? { maxResponseBytes: responseLimit } : {}) },
      statements,
      concurrency,
      ...(flags.minIntervalMinutes === undefined ? {} : { minIntervalMs: flags.minIntervalMinutes * 60_000 }),
      connect: () => openDatabase(databaseUrl, database),
      onNotEnabled: (tenant) =>
        log.warn(
          `⚠️  Tenant ${tenant.businessName} is not enabled for the hourly sync (${SYNCED_TENANT_RULE}); syncing it because it was asked for.`,
        ),
      onUnknownTenant: (id) =>
        log.warn(`⚠️  The config file names tenant ${JSON.stringify(id)}, which the database does not have: its settings apply to no one.`),
      onStart: (tenant) => printStart(blocks.of(tenant.id), tenant, dryRun),
      onProgress: (tenant, event) => printProgress(blocks.of(tenant.id), event),
      onResult: (result) => {
        printResult(blocks.of(result.tenantId), result)
        blocks.end(result.tenantId)
      },
      ping: (tenant, url, event) => ping(url, event, blocks.of(tenant.id)),
    })
    /** The run's metrics, when asked for: at its end, or at a stop with the stop's exit code. */
    const writeRunMetrics = async (report: HourlyReport, exitCode: number) => {
      if (metricsFile === undefined) return
      await writeMetrics(metricsFile, () => metricsOfRun(sql, report, { durationMs: performance.now() - startedMs, exitCode }), log)
    }
    const stop = onSignals(
      log,
      abort,
      async (reason, code) => {
        const report = await hourly.stop(reason)
        // What the run did before the stop, as a finished run says it: the tenants synced are kept.
        if (args.tenant === undefined) printOutcomes(log, outcomesOf(report), report.stopped)
        await writeRunMetrics(report, code)
        await sql.end({ timeout: 0 })
      },
      runtimeLimitMs,
    )
    await ping(monitor, 'start', log)
    try {
      const report = await hourly.run()
      const { results } = report
      await unlessStopped(abort)
      if (results.length > 1) printSummary(log, results)
      if (results.length === 0 && report.skipped === 0) log.info(`No tenant has Gingr sync enabled (${SYNCED_TENANT_RULE}): nothing to do.`)
      if (args.tenant === undefined) printOutcomes(log, outcomesOf(report))
      const code = hourlyExitCode(results)
      // A dry run's counts are not the hourly job's: the collector keeps seeing the last real run.
      if (metricsFile !== undefined && dryRun) log.info(`🧪 Dry run: the metrics file ${metricsFile} is left as it is.`)
      else await writeRunMetrics(report, code)
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
  },
})

function printStart(log: Lines, tenant: Tenant, dryRun: boolean): void {
  log.info(`🔄 Starting Incremental Gingr Sync${dryRun ? ' (dry run: nothing will be written)' : ''}`)
  log.info(`   Tenant: ${tenant.businessName} (${tenant.id})`)
}

function printProgress(log: Lines, event: ProgressEvent): void {
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

function printResult(log: Lines, r: TenantResult): void {
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
function printVanished(log: Lines, r: TenantResult): void {
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
function printOwnerRefresh(log: Lines, r: TenantResult): void {
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

/** The run in one line, whatever its length: what an operator greps for first. `stopped`: rolled back by a stop. */
function printOutcomes(log: Logger, o: Outcomes, stopped?: number): void {
  const total = o.synced + o.failed + o.locked + o.skipped + (stopped ?? 0)
  const counts = `${o.synced} synced, ${o.failed} failed, ${o.locked} locked, ${o.skipped} skipped`
  const line = `📋 ${total} tenant${total === 1 ? '' : 's'}: ${counts}${stopped === undefined ? '' : `, ${stopped} stopped (rolled back)`}`
  if (o.failed > 0) log.error(line)
  else log.info(line)
}

/** Metrics that cannot be written (or read) are said, and fail nothing: the sync itself went as it went. */
async function writeMetrics(path: string, metrics: () => Promise<string>, log: Logger): Promise<void> {
  try {
    writeMetricsFile(path, await metrics())
  } catch (error) {
    log.warn(`⚠️  ${errorMessage(error).replace(/\.?$/, '.')} The sync is not affected.`)
  }
}
