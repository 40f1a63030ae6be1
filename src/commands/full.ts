import { defineCommand } from 'citty'
import { checkGingrSettings, maxResponseBytes, maxRuntimeMs, requireDatabaseUrl, statementTimeoutMs } from '../config.ts'
import type { Tenant } from '../db/tenants.ts'
import { ExitCode } from '../errors.ts'
import type { Logger } from '../log.ts'
import { writeResult } from '../output.ts'
import { ping } from '../ping.ts'
import { redact } from '../secrets.ts'
import {
  DEFAULT_FULL_TIMEOUT_MS,
  type FullProgress,
  type FullResult,
  fullExitCode,
  fullSyncAll,
  recordFullInterruption,
} from '../sync/full.ts'
import { timing } from '../timing.ts'
import { commonArgs, monitorUrl, openDatabase, prepare, wholeNumber } from './_shared.ts'
import { onSignals, unlessStopped } from './_signals.ts'

const MAX_LINES = 20

export const fullArgs = {
  tenant: { type: 'string', valueHint: 'id', description: 'This tenant only (default: every tenant the hourly sync syncs)' },
  'dry-run': { type: 'boolean', description: 'Do everything, then roll back: nothing written' },
  'deactivate-missing': {
    type: 'boolean',
    description: 'Set "isActive" = false on customers and pets Gingr no longer lists (within the guard; default: only report them)',
  },
  'max-deactivate': {
    type: 'string',
    valueHint: 'n',
    description: 'Most customers (and most pets) one run may deactivate per tenant (default: max(10, 10% of the active ones))',
  },
  timeout: {
    type: 'string',
    valueHint: String(DEFAULT_FULL_TIMEOUT_MS / 1000),
    description: 'Seconds before one Gingr request is given up (1-600); one answer holds the whole account',
  },
  'ping-url': {
    type: 'string',
    valueHint: 'url',
    description: 'Healthchecks-style URL pinged at start, success, failure (or GINGR_SYNC_PING_URL)',
  },
  'max-runtime': {
    type: 'string',
    valueHint: '3300',
    description: 'Seconds the whole run may take; past it the tenant in flight is rolled back, exit 4 (or GINGR_SYNC_MAX_RUNTIME)',
  },
  ...commonArgs,
} as const

export default defineCommand({
  meta: {
    name: 'full',
    description: 'Copy every Gingr owner and animal into customers and pets: created, changed ones updated, unchanged ones untouched',
  },
  args: fullArgs,
  async run({ args }) {
    const timeoutSeconds = wholeNumber('timeout', args.timeout, 1, 600)
    const maxDeactivate = wholeNumber('max-deactivate', args['max-deactivate'], 0, 10_000_000)
    const { log, settings } = prepare(args)
    const databaseUrl = requireDatabaseUrl(settings)
    checkGingrSettings(settings)
    const runtimeLimitMs = maxRuntimeMs(settings, args['max-runtime'])
    const responseLimit = maxResponseBytes(settings)
    const dryRun = Boolean(args['dry-run'])
    const monitor = monitorUrl(args['ping-url'], settings, dryRun)

    const { sql, statements, explain } = openDatabase(databaseUrl, { statementTimeoutMs: statementTimeoutMs(settings) })
    const abort = new AbortController()
    let inFlight: { tenant: Tenant; startedAt: Date } | undefined
    const stop = onSignals(
      log,
      abort,
      async (reason) => {
        if (inFlight && !dryRun) await recordFullInterruption(sql, { ...inFlight, dryRun, reason }).catch(() => {})
        await sql.end({ timeout: 0 })
      },
      runtimeLimitMs,
    )
    await ping(monitor, 'start', log)
    try {
      const results = await fullSyncAll({
        sql,
        settings,
        tenantId: args.tenant,
        dryRun,
        deactivateMissing: Boolean(args['deactivate-missing']),
        maxDeactivate,
        gingr: {
          timeoutMs: (timeoutSeconds ?? DEFAULT_FULL_TIMEOUT_MS / 1000) * 1000,
          signal: abort.signal,
          ...(responseLimit ? { maxResponseBytes: responseLimit } : {}),
        },
        statements,
        onNotEnabled: (tenant) =>
          log.warn(
            `⚠️  Tenant ${tenant.businessName} is not enabled for the hourly sync (gingr_sync_enabled, "isActive", status ACTIVE); syncing it because it was asked for.`,
          ),
        onStart: (tenant) => {
          inFlight = { tenant, startedAt: new Date() }
          printStart(log, tenant, dryRun)
        },
        onProgress: (event) => printProgress(log, event),
        onResult: (result) => {
          inFlight = undefined
          printResult(log, result)
        },
      })
      await unlessStopped(abort)
      if (results.length > 1) printSummary(log, results)
      if (results.length === 0) log.info('No tenant has Gingr sync enabled (gingr_sync_enabled, "isActive", status ACTIVE): nothing to do.')
      const code = fullExitCode(results)
      await ping(monitor, code === ExitCode.Failed ? 'fail' : 'success', log)
      if (args.json) await writeResult(`${redact(JSON.stringify({ ok: code !== ExitCode.Failed, tenants: results }))}\n`)
      return code
    } catch (error) {
      const failure = await explain(error)
      await ping(monitor, 'fail', log)
      throw failure
    } finally {
      stop()
      await sql.end({ timeout: timing().closeTimeoutMs / 1000 })
    }
  },
})

function printStart(log: Logger, tenant: Tenant, dryRun: boolean): void {
  log.info(`🔄 Starting Full Gingr Sync: owners and animals${dryRun ? ' (dry run: nothing will be written)' : ''}`)
  log.info(`   Tenant: ${tenant.businessName} (${tenant.id})`)
}

function printProgress(log: Logger, event: FullProgress): void {
  if (event.step === 'fetching') {
    log.info('👥 Fetching owners, animals, breeds and species...')
    return
  }
  log.info(`   Found ${event.owners} owners and ${event.animals} animals in Gingr (${event.breeds} breeds, ${event.species} species)`)
  for (const record of event.invalid.slice(0, MAX_LINES)) {
    log.warn(`⚠️  Skipped invalid ${record.kind} ${record.id ?? '(no readable id)'}: ${record.issue}`)
  }
  if (event.invalid.length > MAX_LINES) log.warn(`⚠️  ...and ${event.invalid.length - MAX_LINES} more invalid records (see --json)`)
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`
const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

function list(ids: readonly string[]): string {
  return ids.length > MAX_LINES ? `${ids.slice(0, MAX_LINES).join(', ')} and ${ids.length - MAX_LINES} more` : ids.join(', ')
}

function printResult(log: Logger, r: FullResult): void {
  if (r.status !== 'synced') {
    log.error(`❌ Full sync failed for ${r.businessName} (${r.tenantId}) after ${seconds(r.durationMs)}: ${r.error}`)
    log.error('   Nothing was written for this tenant.')
    return
  }
  const { customers: c, pets: p } = r
  log.info(`✅ Customers: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.linked} linked, ${c.skipped} skipped`)
  log.info(`✅ Pets: ${p.created} created, ${p.updated} updated, ${p.unchanged} unchanged, ${p.skipped} skipped`)
  printMissing(log, r)
  if (r.emailConflicts.length > 0) {
    log.warn(
      `⚠️  Kept the email of ${counted(r.emailConflicts.length, 'customer')}: another customer of the tenant holds the one Gingr has (Gingr owners ${list(r.emailConflicts)})`,
    )
  }
  for (const [noun, ids] of [
    ['owner', r.listedTwice.owners],
    ['animal', r.listedTwice.animals],
  ] as const) {
    if (ids.length > 0) log.warn(`⚠️  Gingr listed ${counted(ids.length, noun)} twice; the last one listed was kept: ${list(ids)}`)
  }
  if (r.petsWithoutOwner.length > 0) {
    log.warn(
      `⚠️  No customer to put ${counted(r.petsWithoutOwner.length, 'animal')} under (their owner is not in Gingr's answer, or invalid): ${list(r.petsWithoutOwner)}`,
    )
  }
  if (r.dryRun) log.info('🧪 Dry run: every change above was rolled back; nothing was written.')
  log.info(`✅ Full sync complete in ${seconds(r.durationMs)}`)
}

/** What Gingr no longer lists: the counts, then who, and why nothing was deactivated when the guard says so. */
function printMissing(log: Logger, r: FullResult): void {
  const m = r.missing
  if (m.customers.length === 0 && m.pets.length === 0) return
  const done = m.deactivated.customers + m.deactivated.pets > 0
  const outcome = done
    ? `${r.dryRun ? 'would be deactivated' : 'deactivated'}: ${counted(m.deactivated.customers, 'customer')}, ${counted(m.deactivated.pets, 'pet')}`
    : m.withheld
      ? 'withheld: none deactivated'
      : 'reported only; --deactivate-missing sets "isActive" = false'
  log.info(`   No longer in Gingr: ${counted(m.customers.length, 'customer')}, ${counted(m.pets.length, 'pet')} (${outcome})`)
  if (m.customers.length > 0) log.info(`   Owners no longer listed: ${list(m.customers)}`)
  if (m.pets.length > 0) log.info(`   Animals no longer listed: ${list(m.pets)}`)
  for (const note of r.notes) log.warn(`⚠️  ${note}`)
}

function printSummary(log: Logger, results: readonly FullResult[]): void {
  log.info('📋 Summary')
  for (const r of results) {
    const detail =
      r.status === 'synced'
        ? `customers ${r.customers.created} created, ${r.customers.updated} updated; pets ${r.pets.created} created, ${r.pets.updated} updated`
        : `ERROR: ${r.error}`
    const line = `   ${r.businessName}: ${r.status} (${detail}) in ${seconds(r.durationMs)}`
    if (r.status === 'synced') log.info(line)
    else log.error(line)
  }
}
