/**
 * The run in Prometheus's text format, for node_exporter's textfile collector (`--metrics-file`).
 * Names follow Prometheus's conventions: base units (`_seconds`), a `tenant` label holding the
 * tenant's id, one series per value of an enumerated label (`status`, `outcome`, `action`), 1 for
 * the one that holds. These are gauges of the last run, not counters: no `_total`.
 */
import type { Queryable } from '../db/connect.ts'
import { lastSyncsOf } from '../db/tenants.ts'
import { type HourlyReport, type Outcomes, outcomesOf } from './hourly.ts'
import type { TenantResult } from './run.ts'

export interface RunMetrics {
  /** Every tenant the run considered, with its last successful sync by any host (the database's stamp). */
  lastSuccess: ReadonlyMap<string, Date | null>
  /** The tenants this run worked on. */
  results: readonly TenantResult[]
  outcomes: Outcomes
  durationMs: number
  finishedAt: Date
  exitCode: number
}

/** The metrics of a finished run: its report, and every tenant's last success as the database has it now. */
export async function metricsOfRun(sql: Queryable, report: HourlyReport, run: { durationMs: number; exitCode: number }): Promise<string> {
  return renderMetrics({
    lastSuccess: await lastSyncsOf(sql, report.tenantIds),
    results: report.results,
    outcomes: outcomesOf(report),
    finishedAt: new Date(),
    ...run,
  })
}

const STATUSES = ['synced', 'failed', 'locked'] as const
const OUTCOMES = ['synced', 'failed', 'locked', 'skipped'] as const

export function renderMetrics(run: RunMetrics): string {
  const out: string[] = []
  const family = (name: string, help: string, samples: [labels: Record<string, string>, value: number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${formatValue(value)}`)
  }
  // Never synced: 0, not no series, so that `time() - … > 9000` fires for a tenant broken from day one.
  family(
    'gingr_sync_last_success_timestamp_seconds',
    'When the tenant was last synced successfully, by any host (tenants.last_gingr_sync_at), in Unix seconds; 0 if never.',
    [...run.lastSuccess].map(([tenant, at]) => [{ tenant }, at === null ? 0 : at.getTime() / 1000]),
  )
  const perTenant = (name: string, help: string, value: (r: TenantResult) => number) =>
    family(
      name,
      help,
      run.results.map((r) => [{ tenant: r.tenantId }, value(r)]),
    )
  perTenant(
    'gingr_sync_tenant_last_run_duration_seconds',
    "The duration of the tenant's last run on this host.",
    (r) => r.durationMs / 1000,
  )
  family(
    'gingr_sync_tenant_last_run_status',
    "The outcome of the tenant's last run on this host: 1 for the one it had.",
    run.results.flatMap((r) =>
      STATUSES.map((status) => [{ tenant: r.tenantId, status }, r.status === status ? 1 : 0] as [Record<string, string>, number]),
    ),
  )
  family(
    'gingr_sync_tenant_last_run_reservations',
    "Reservations the tenant's last run on this host created, updated and cancelled.",
    run.results.flatMap((r) =>
      (
        [
          ['created', r.reservations.created],
          ['updated', r.reservations.updated],
          ['cancelled', r.vanished.cancelled.length],
        ] as const
      ).map(([action, value]) => [{ tenant: r.tenantId, action }, value] as [Record<string, string>, number]),
    ),
  )
  perTenant(
    'gingr_sync_tenant_last_run_invalid_records',
    "Invalid records Gingr sent in the tenant's last run on this host, skipped.",
    (r) => r.invalid.length,
  )
  family(
    'gingr_sync_run_tenants',
    "The tenants of this host's last run, by outcome (skipped: another host's, or synced or failed within --min-interval).",
    OUTCOMES.map((outcome) => [{ outcome }, run.outcomes[outcome]]),
  )
  family('gingr_sync_run_duration_seconds', "The duration of this host's last run.", [[{}, run.durationMs / 1000]])
  family('gingr_sync_run_finished_timestamp_seconds', "When this host's last run ended, in Unix seconds.", [
    [{}, run.finishedAt.getTime() / 1000],
  ])
  family('gingr_sync_run_exit_code', "The exit code of this host's last run (README: Exit codes).", [[{}, run.exitCode]])
  return `${out.join('\n')}\n`
}

/** `{a="x",b="y"}`, values escaped as the format asks (backslash, double quote, newline). */
function labelText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(
    ([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  )
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

/** Whole numbers as such, others with at most millisecond precision. */
function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000)
}
