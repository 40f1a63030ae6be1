import { defineCommand } from 'citty'
import { requireDatabaseUrl } from '../config.ts'
import { ExitCode } from '../errors.ts'
import { writeResult } from '../output.ts'
import { redact } from '../secrets.ts'
import { DEFAULT_MAX_AGE_MINUTES, type LastRun, readStatus, type StatusReport, type TenantStatusEntry } from '../sync/status.ts'
import { commonArgs, openDatabase, prepare, wholeNumber } from './_shared.ts'

export default defineCommand({
  meta: { name: 'status', description: "Each tenant's last sync and last run; exit 1 when an enabled tenant is stale (for monitoring)" },
  args: {
    'max-age': {
      type: 'string',
      valueHint: String(DEFAULT_MAX_AGE_MINUTES),
      description: "Minutes after which an enabled tenant's last sync is stale (1-100000)",
    },
    ...commonArgs,
  },
  async run({ args }) {
    const maxAgeMinutes = wholeNumber('max-age', args['max-age'], 1, 100_000) ?? DEFAULT_MAX_AGE_MINUTES
    const { settings } = prepare(args)
    const url = requireDatabaseUrl(settings)
    const { sql, explain } = openDatabase(url)
    try {
      const report = await readStatus(sql, { maxAgeMinutes }).catch(async (error: unknown) => {
        throw await explain(error)
      })
      // The report is the command's result: stdout, as a table or as JSON.
      await writeResult(`${redact(args.json ? JSON.stringify(report) : render(report, new Date()))}\n`)
      return report.ok ? ExitCode.Ok : ExitCode.Failed
    } finally {
      await sql.end({ timeout: 5 })
    }
  },
})

function render(report: StatusReport, now: Date): string {
  if (report.tenants.length === 0) return 'No tenant is set up for Gingr sync (tenants.gingr_sync_enabled): nothing to report.'
  const lines = report.tenants.map((t) => renderTenant(t, now))
  const enabled = report.tenants.filter((t) => t.enabled)
  const stale = enabled.filter((t) => t.stale)
  lines.push('')
  if (enabled.length === 0) lines.push('No tenant is enabled for the hourly sync.')
  else if (stale.length === 0)
    lines.push(`All ${enabled.length} enabled tenant${plural(enabled.length)} synced within the last ${report.maxAgeMinutes} min.`)
  else
    lines.push(
      `STALE: ${stale.length} of ${enabled.length} enabled tenant${plural(enabled.length)} not synced within the last ${report.maxAgeMinutes} min (or never).`,
    )
  return lines.join('\n')
}

function renderTenant(t: TenantStatusEntry, now: Date): string {
  const mark = !t.enabled ? '—' : t.stale ? '✗ STALE' : '✓'
  const synced = t.lastSyncAt === null ? 'never synced' : `last sync ${utc(t.lastSyncAt)}, ${ago(t.minutesSinceSync ?? 0)}`
  return [
    `${mark} ${t.businessName} (${t.tenantId})`,
    t.enabled ? 'enabled' : 'not enabled',
    synced,
    t.lastFullSyncAt === null ? 'no full sync yet' : `last full sync ${utc(t.lastFullSyncAt)}`,
    t.ownersRefreshedThrough === null ? 'owners not refreshed yet' : `owners refreshed through ${t.ownersRefreshedThrough}`,
    // Last: its error is Gingr's or PostgreSQL's sentence, of any length.
    renderRun(t.lastRun, now),
  ].join(' · ')
}

function renderRun(run: LastRun | null, now: Date): string {
  if (run === null) return 'no run recorded'
  // Several hosts may run the job: which one ran this (rows older than the column name none).
  const took = `${run.host ? `on ${run.host} ` : ''}${run.status === 'failed' ? 'after' : 'in'} ${seconds(run.durationMs)}`
  if (run.status === 'failed') {
    const minutes = Math.max(0, Math.floor((now.getTime() - run.startedAt.getTime()) / 60_000))
    return `last run FAILED ${utc(run.startedAt)} (${ago(minutes)}) ${took}: ${run.error ?? 'no error recorded'}`
  }
  const gone =
    run.vanished === 0 ? '' : `; ${run.vanished} gone from Gingr: ${run.moved} moved, ${run.cancelled} cancelled, ${run.withheld} withheld`
  const look = run.withheld > 0 ? ' (cancellations WITHHELD by the guard: see the log)' : ''
  const owners = run.ownerRefreshError === null ? '' : `; owner refresh FAILED: ${run.ownerRefreshError}`
  return `last run synced ${took}: ${run.fetched} fetched, ${run.created} created, ${run.updated} updated, ${run.unchanged} unchanged, ${run.skipped} skipped${gone}${look}${owners}`
}

const plural = (n: number) => (n === 1 ? '' : 's')
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** "2026-11-27 06:00 UTC": the stamp is UTC, and saying so spares the reader a guess. */
function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** "37 min ago", "5 h 12 min ago", "3 days ago". */
export function ago(minutes: number): string {
  if (minutes < 60) return `${minutes} min ago`
  if (minutes < 48 * 60) {
    const rest = minutes % 60
    return `${Math.floor(minutes / 60)} h${rest === 0 ? '' : ` ${rest} min`} ago`
  }
  return `${Math.floor(minutes / 1440)} days ago`
}
