/**
 * The five steps of `bun run demo`: the old runbook's "Expected Output", for real. Every sync and
 * the schema go through the CLI's own entry (run-cli.ts); the demo itself only plays Gingr's front
 * desk and checks that each step did what it says.
 */
import { randomUUID } from 'node:crypto'
import { colors } from 'consola/utils'
import { startSimulator } from '../simulator/index.ts'
import { syncWindow } from '../sync/window.ts'
import { changeSomeReservations, missingChanges } from './changes.ts'
import { createDemoTenant, type Defer, type DemoTenant, openDemoDatabase } from './database.ts'
import { type CliSettings, DemoFailure, runCli, syncOnce, type TenantReport } from './run-cli.ts'

const STEPS = 5
const TENANT: DemoTenant = { id: randomUUID(), businessName: 'Denver Dog Ranch', timeZone: 'America/Denver' }
/** A few hundred reservations, the same ones every run of a given day. */
const ACCOUNT = { seed: 7, reservations: 300, owners: 90, animals: 140, timeZone: TENANT.timeZone } as const
/** The CLI's default window, which the demo does not change: 7 days back, 30 ahead. */
const WINDOW_DAYS = { past: 7, future: 30 } as const

export interface DemoOptions {
  /** DEMO_DATABASE_URL: a server to use instead of the embedded one. */
  databaseUrl?: string
  defer: Defer
  signal: AbortSignal
}

export interface DemoSummary {
  synced: number
  changed: number
  unchanged: number
}

export function say(line = ''): void {
  process.stdout.write(line === '' ? '\n' : `   ${line}\n`)
}

function heading(step: number, title: string): void {
  process.stdout.write(`\n${colors.bold(colors.cyan(`Step ${step}/${STEPS}: ${title}`))}\n`)
}

function ok(line: string): void {
  say(colors.green(`✓ ${line}`))
}

/** Every count of a sync against what the step expects, named in the failure when one differs. */
function expectCounts(step: string, got: TenantReport, expected: Partial<TenantReport['reservations']> & { fetched: number }): void {
  const { fetched, ...counts } = expected
  const wrong = Object.entries({ skipped: 0, errors: 0, ...counts })
    .filter(([name, value]) => got.reservations[name as keyof TenantReport['reservations']] !== value)
    .map(([name, value]) => `${got.reservations[name as keyof TenantReport['reservations']]} ${name} instead of ${value}`)
  if (got.fetched !== fetched) wrong.unshift(`${got.fetched} fetched instead of ${fetched}`)
  if (wrong.length > 0) throw new DemoFailure(`The ${step} reported ${wrong.join(', ')}.`)
}

export async function runDemo({ databaseUrl, defer, signal }: DemoOptions): Promise<DemoSummary> {
  heading(1, 'set-up — a simulated Gingr account, PostgreSQL, the schema and one tenant')
  const sim = await startSimulator(ACCOUNT)
  defer(sim.stop)
  say(
    `Gingr: a simulator at ${sim.baseUrl}, ${sim.account.reservations.size} reservations around ${sim.account.today} (${ACCOUNT.timeZone})`,
  )
  const db = await openDemoDatabase(databaseUrl, defer, signal)
  say(`PostgreSQL: ${db.description}`)
  const settings: CliSettings = {
    DATABASE_URL: db.url,
    GINGR_SUBDOMAIN: 'denverdogranch',
    GINGR_API_KEY: sim.apiKey,
    GINGR_BASE_URL: sim.baseUrl,
  }
  const migrated = await runCli(['migrate'], settings, signal)
  if (migrated.code !== 0) throw new DemoFailure(`gingr-sync migrate exited with code ${migrated.code} instead of 0.`)
  await createDemoTenant(db.sql, TENANT)
  ok(`Tenant ${TENANT.businessName} (${TENANT.id}): ${TENANT.timeZone}, ACTIVE, Gingr sync enabled`)

  heading(2, 'first sync — every reservation in the window is new')
  const window = syncWindow(TENANT.timeZone, WINDOW_DAYS.past, WINDOW_DAYS.future)
  const inGingr = sim.account.matching(window.from, window.to).length
  const first = await syncOnce(settings, signal)
  expectCounts('first sync', first, { fetched: inGingr, created: inGingr, updated: 0, unchanged: 0 })
  const [{ stored = 0 } = {}] = await db.sql<{ stored: number }[]>`
    SELECT count(*)::int AS stored FROM reservations WHERE "tenantId" = ${TENANT.id}`
  if (stored !== inGingr) throw new DemoFailure(`The database holds ${stored} reservations after the first sync, not ${inGingr}.`)
  ok(`${stored} reservations from ${window.from} to ${window.to} are now in the database, with their customers, pets and services.`)

  heading(3, 'changes in Gingr, then the hourly sync again — only what changed is written')
  const changes = changeSomeReservations(sim, window)
  for (const change of changes) say(`• ${change.description}`)
  const second = await syncOnce(settings, signal)
  expectCounts('second sync', second, {
    fetched: inGingr + 1,
    created: 1,
    updated: changes.length - 1,
    unchanged: inGingr + 1 - changes.length,
  })
  const missing = await missingChanges(db.sql, TENANT.id, changes)
  if (missing.length > 0) throw new DemoFailure(`After the second sync, ${missing.join('; ')}.`)
  ok(`1 created and ${changes.length - 1} updated, as made in Gingr; the other ${second.reservations.unchanged} were left untouched.`)

  heading(4, 'the same sync once more — nothing changed in Gingr, so nothing is written')
  const third = await syncOnce(settings, signal)
  expectCounts('unchanged rerun', third, { fetched: second.fetched, created: 0, updated: 0, unchanged: second.fetched })
  ok(`0 rows written: all ${third.reservations.unchanged} reservations were already up to date.`)

  heading(5, 'gingr-sync status — what monitoring looks at')
  const status = await runCli(['status'], settings, signal)
  process.stdout.write(status.stdout.replace(/^(?=.)/gm, '   '))
  if (status.code !== 0) throw new DemoFailure(`gingr-sync status exited with code ${status.code} instead of 0.`)
  return { synced: first.reservations.created, changed: changes.length, unchanged: third.reservations.unchanged }
}
