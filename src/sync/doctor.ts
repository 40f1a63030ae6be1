import { statSync } from 'node:fs'
import {
  checkGingrSettings as checkRunWideGingrSettings,
  gingrAccountFor,
  maxResponseBytes,
  requireDatabaseUrl,
  type Settings,
} from '../config.ts'
import { connect, explainDbFailure, redactUrl, type Sql } from '../db/connect.ts'
import { checkSchema } from '../db/migrate.ts'
import { listTenants, type Tenant, unknownTenantIds } from '../db/tenants.ts'
import { parseDatabaseUrl } from '../db/url.ts'
import { errorMessage, UsageError } from '../errors.ts'
import { GingrClient, type GingrClientOptions } from '../gingr/client.ts'
import { GingrError } from '../gingr/errors.ts'
import { printable } from '../text.ts'
import { timing } from '../timing.ts'
import { isKnownTimeZone } from './window.ts'

/**
 * `gingr-sync doctor`: the questions an operator asks when the hourly job fails, answered in the
 * order they depend on each other. A check whose premise failed is skipped, never crashed into, so
 * that one run names every problem it can see.
 */

export type CheckState = 'pass' | 'fail' | 'skip'

export interface Check {
  name: string
  state: CheckState
  /** What was found (pass, fail) or why the check could not run (skip). Never a secret. */
  detail: string
  /** On a failure: what to do about it. */
  fix?: string
}

export interface DoctorReport {
  ok: boolean
  checks: Check[]
}

export interface DoctorOptions {
  settings: Settings
  /** The `--env-file` given, whose permissions are checked. */
  envFile?: string
  /** The config file read, checked too when it holds API keys. */
  configPath?: string
  /** Short on purpose: a doctor that hangs for the driver's default 30 s is no help. */
  connectTimeoutSeconds?: number
  /** The Gingr probe's retries and waits; by default doctor's own (src/timing.ts) and two attempts. */
  gingr?: Pick<GingrClientOptions, 'timeoutMs' | 'maxAttempts' | 'backoffBaseMs' | 'backoffMaxMs'>
}

const MAX_SCHEMA_PROBLEMS = 2

const pass = (name: string, detail: string): Check => ({ name, state: 'pass', detail })
const fail = (name: string, detail: string, fix: string): Check => ({ name, state: 'fail', detail, fix })
const skip = (name: string, detail: string): Check => ({ name, state: 'skip', detail })

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { settings } = options
  const checks: Check[] = []
  const database = checkDatabaseSetting(settings)
  const gingr = checkGingrSettings(settings)
  checks.push(database.check, gingr)

  if (database.url === undefined) {
    checks.push(skip('Database reachable', 'DATABASE_URL is not usable'), skip('Database schema', 'DATABASE_URL is not usable'))
    checks.push(skip('Gingr credentials', 'the tenants are read from the database'))
  } else {
    checks.push(...(await checkDatabaseAndTenants(database.url, { ...options, probeGingr: gingr.state === 'pass' })))
  }
  checks.push(...checkFilePermissions(options))
  return { ok: checks.every((c) => c.state !== 'fail'), checks }
}

function checkDatabaseSetting(settings: Settings): { check: Check; url?: string } {
  const name = 'DATABASE_URL'
  try {
    const url = requireDatabaseUrl(settings)
    return { check: pass(name, redactUrl(url)), url }
  } catch (error) {
    const fix = settings.env.DATABASE_URL
      ? 'Correct DATABASE_URL in the env file as said (the form is postgres://user:password@host:5432/database).'
      : 'Add DATABASE_URL=postgres://user:password@host:5432/database to the env file.'
    return { check: fail(name, errorMessage(error), fix) }
  }
}

/**
 * The shared account (GINGR_API_KEY with GINGR_SUBDOMAIN or GINGR_BASE_URL), or at least one
 * tenant with an account of its own in the config file. Whether every enabled tenant has one is
 * told per tenant, once the tenants are known.
 */
function checkGingrSettings(settings: Settings): Check {
  const name = 'Gingr settings'
  const { env, config } = settings
  try {
    checkRunWideGingrSettings(settings)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    return fail(
      name,
      error.message,
      'Set GINGR_API_KEY and GINGR_SUBDOMAIN (or GINGR_BASE_URL, https://<subdomain>.gingrapp.com/api/v1) in the env file, or give each tenant its account in the config file (--config).',
    )
  }
  if (env.GINGR_API_KEY && (env.GINGR_SUBDOMAIN || env.GINGR_BASE_URL)) {
    return pass(name, `shared account ${env.GINGR_BASE_URL ? hostOf(env.GINGR_BASE_URL) : `${env.GINGR_SUBDOMAIN}.gingrapp.com`}`)
  }
  return pass(name, `per-tenant accounts in the config file for ${Object.keys(config.tenants).join(', ')}`)
}

function hostOf(url: string): string {
  return new URL(url).host
}

/** `probeGingr` is false when no Gingr account is configured at all: every tenant would fail alike. */
type TenantCheckOptions = DoctorOptions & { probeGingr: boolean }

async function checkDatabaseAndTenants(url: string, options: TenantCheckOptions): Promise<Check[]> {
  const sql = connect(url, { connectTimeoutSeconds: options.connectTimeoutSeconds ?? 5 })
  try {
    const reachable = await checkReachable(sql, url)
    if (reachable.state !== 'pass') {
      return [
        reachable,
        skip('Database schema', 'the database is not reachable'),
        skip('Gingr credentials', 'the tenants are read from the database'),
      ]
    }
    const schema = await checkSchemaCompatible(sql, url)
    return [reachable, schema, ...(await checkTenants(sql, url, options))]
  } finally {
    await sql.end({ timeout: 1 })
  }
}

async function checkReachable(sql: Sql, url: string): Promise<Check> {
  const name = 'Database reachable'
  try {
    const [row] = await sql<{ version: string }[]>`SELECT current_setting('server_version') AS version`
    return pass(name, `PostgreSQL ${row?.version ?? '(unknown version)'}`)
  } catch (error) {
    return fail(
      name,
      await dbSentence(error, url, sql),
      `Check that PostgreSQL is running and accepts connections at ${parseDatabaseUrl(url).server}, and the user, password, database name and sslmode in DATABASE_URL.`,
    )
  }
}

/** The sentences sync and status print for the same failure (src/db/connect.ts). */
async function dbSentence(error: unknown, url: string, sql: Sql): Promise<string> {
  return errorMessage(await explainDbFailure(error, url, sql))
}

async function checkSchemaCompatible(sql: Sql, url: string): Promise<Check> {
  const name = 'Database schema'
  let problems: string[]
  try {
    problems = await checkSchema(sql)
  } catch (error) {
    return fail(
      name,
      `the catalog could not be read: ${await dbSentence(error, url, sql)}`,
      "Check that the DATABASE_URL user may read the database's catalog.",
    )
  }
  if (problems.length === 0) return pass(name, 'the Tailtown tables and gingr_sync_runs are as the sync expects')
  // A fresh database lacks a dozen objects: the first few tell the story, migrate prints the rest.
  const shown = problems.slice(0, MAX_SCHEMA_PROBLEMS).join(' ')
  const more = problems.length > MAX_SCHEMA_PROBLEMS ? ` (and ${problems.length - MAX_SCHEMA_PROBLEMS} more)` : ''
  // migrate never adds a required column to a table that exists: then it is the wrong database.
  const fix = problems.every((p) => p.includes('gingr-sync migrate'))
    ? 'Run `gingr-sync migrate` with the same settings (safe to run again).'
    : problems.every((p) => p.includes('GRANT '))
      ? "As the database's owner, grant the role what it lacks: the GRANT statements above."
      : 'Check that DATABASE_URL names the Tailtown database; migrate cannot complete this schema on its own.'
  return fail(name, shown + more, fix)
}

async function checkTenants(sql: Sql, url: string, options: TenantCheckOptions): Promise<Check[]> {
  let tenants: Tenant[]
  let unknown: string[]
  try {
    tenants = (await listTenants(sql)).filter((tenant) => tenant.enabled)
    unknown = await unknownTenantIds(sql, Object.keys(options.settings.config.tenants))
  } catch (error) {
    return [skip('Gingr credentials', `the tenants could not be read: ${await dbSentence(error, url, sql)}`)]
  }
  // A typo in a tenant id there: that tenant silently syncs with the shared account instead.
  const config: Check[] =
    unknown.length === 0
      ? []
      : [
          fail(
            'Config file tenants',
            `the config file names ${unknown.map((id) => JSON.stringify(id)).join(', ')}, which no tenant of the database is: those settings apply to no one.`,
            'Correct the tenant ids in the config file (SELECT id, "businessName" FROM tenants;).',
          ),
        ]
  if (tenants.length === 0) {
    return [
      ...config,
      fail(
        'Enabled tenants',
        'no tenant has gingr_sync_enabled, "isActive" and status ACTIVE: the hourly sync has nothing to do.',
        `Enable one: UPDATE tenants SET gingr_sync_enabled = true WHERE id = '<tenant id>';`,
      ),
    ]
  }
  if (!options.probeGingr)
    return [...config, ...tenants.map((t) => skip(tenantName(t), 'no Gingr account is configured, see Gingr settings'))]
  const probes = new Map<string, Promise<Finding>>()
  const checks: Check[] = [...config]
  for (const tenant of tenants) checks.push(await checkTenant(tenant, options, probes))
  return checks
}

/** Tailtown's staff typed both: a newline or an escape sequence must not forge a line of the report. */
const tenantName = (tenant: Tenant) => `Tenant ${printable(tenant.businessName)} (${printable(tenant.id)})`

/** One tenant's time zone and Gingr account; tenants sharing an account share one call to Gingr. */
async function checkTenant(tenant: Tenant, options: DoctorOptions, probes: Map<string, Promise<Finding>>): Promise<Check> {
  const name = tenantName(tenant)
  if (!isKnownTimeZone(tenant.timezone)) {
    return fail(
      name,
      `its time zone ${JSON.stringify(tenant.timezone)} is unknown.`,
      `Set an IANA zone: UPDATE tenants SET timezone = 'America/Denver' WHERE id = '${tenant.id}';`,
    )
  }
  let client: GingrClient
  let apiKey: string
  try {
    const account = gingrAccountFor(options.settings, tenant.id)
    apiKey = account.apiKey
    const { doctorTimeoutMs, doctorBackoffBaseMs } = timing()
    const responseLimit = maxResponseBytes(options.settings)
    client = new GingrClient({
      ...account,
      timeoutMs: doctorTimeoutMs,
      maxAttempts: 2,
      backoffBaseMs: doctorBackoffBaseMs,
      ...(responseLimit ? { maxResponseBytes: responseLimit } : {}),
      ...options.gingr,
    })
  } catch (error) {
    return fail(
      name,
      errorMessage(error),
      'Set GINGR_API_KEY and GINGR_SUBDOMAIN (or GINGR_BASE_URL) in the env file, or give the tenant its account in the config file.',
    )
  }
  const key = `${client.baseUrl}\u0000${apiKey}`
  const probe = probes.get(key) ?? probeGingr(client)
  probes.set(key, probe)
  return { name, ...(await probe) }
}

/** A check's outcome before it is named: one probe answers for every tenant of an account. */
type Finding = Omit<Check, 'name'>

/** The cheapest authenticated call Gingr has: it proves the URL, the network and the key. */
async function probeGingr(client: GingrClient): Promise<Finding> {
  const host = hostOf(client.baseUrl)
  try {
    const { records } = await client.reservationTypes()
    return { state: 'pass', detail: `Gingr at ${host} accepted the API key (${records.length} reservation types)` }
  } catch (error) {
    const fix = error instanceof GingrError ? gingrFix(error, host) : 'Check GINGR_SUBDOMAIN (or GINGR_BASE_URL) and the API key.'
    return { state: 'fail', detail: errorMessage(error), fix }
  }
}

function gingrFix(error: GingrError, host: string): string {
  if (error.status === 401 || error.status === 403)
    return "Check the API key (GINGR_API_KEY, or the tenant's apiKey in the config file): Gingr rejected it."
  if (error.kind === 'html') return `${host} answers with a web page, not the API: check GINGR_SUBDOMAIN (or GINGR_BASE_URL).`
  if (error.kind === 'network' || error.kind === 'timeout' || error.kind === 'deadline') {
    return `Check that this server can reach ${host} (DNS, firewall, proxy) and that GINGR_SUBDOMAIN (or GINGR_BASE_URL) is right.`
  }
  if (error.status !== undefined && error.status >= 500) return 'Gingr is having trouble on its side: run doctor again later.'
  return 'Check GINGR_SUBDOMAIN (or GINGR_BASE_URL) and the API key: Gingr did not answer as its API does.'
}

/** Files holding secrets must be the owner's alone: cron logs and backups are read by others. */
function checkFilePermissions(options: DoctorOptions): Check[] {
  const files: { path: string; what: string }[] = []
  if (options.envFile) files.push({ path: options.envFile, what: 'Env file' })
  const keyInConfig = Object.values(options.settings.config.tenants).some((t) => t.apiKey)
  if (options.configPath && keyInConfig) files.push({ path: options.configPath, what: 'Config file' })
  return files.map(({ path, what }) => checkPrivate(path, `${what} permissions`))
}

function checkPrivate(path: string, name: string): Check {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch (error) {
    return fail(name, `${path} cannot be read: ${errorMessage(error)}`, `Check the path ${path}.`)
  }
  const octal = mode.toString(8).padStart(3, '0')
  if ((mode & 0o077) === 0) return pass(name, `${path} is private (mode ${octal})`)
  return fail(name, `${path} holds secrets and is open to group or others (mode ${octal}).`, `chmod 600 ${path}`)
}
