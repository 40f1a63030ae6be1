import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import * as v from 'valibot'
import { parseDatabaseUrl, passwordsOf } from './db/url.ts'
import { TenantSettingError, UsageError } from './errors.ts'
import { isGingrSubdomain } from './gingr/client.ts'
import { jsonSyntaxError } from './json-syntax.ts'

/**
 * Settings come from the environment, from `--env-file` (KEY=VALUE lines; it wins over the inherited
 * environment, since the operator named it) and from a JSON `--config` file that can give a tenant
 * its own Gingr account and window. Nothing is read from the working directory on its own: cron's
 * working directory is arbitrary.
 */

const WindowDays = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(365))
/** What to do with reservations deleted in Gingr (src/sync/vanished.ts). */
const Vanished = v.picklist(['cancel', 'report'])
const MaxCancel = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000))

/** Only HTTP: `file:///etc/passwd` is a URL too, and fetch() would read it. */
const GingrBaseUrl = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//i))

const TenantConfig = v.object({
  subdomain: v.optional(v.pipe(v.string(), v.nonEmpty())),
  apiKey: v.optional(v.pipe(v.string(), v.nonEmpty())),
  baseUrl: v.optional(GingrBaseUrl),
  pastDays: v.optional(WindowDays),
  futureDays: v.optional(WindowDays),
  vanished: v.optional(Vanished),
  maxCancel: v.optional(MaxCancel),
  /**
   * Healthchecks-style pings for this tenant alone (start, success, fail), besides the run's. Any
   * text here: a bad one fails its tenant alone (tenantPingUrl), not the run.
   */
  pingUrl: v.optional(v.string()),
})

export const ConfigFile = v.strictObject({
  pastDays: v.optional(WindowDays),
  futureDays: v.optional(WindowDays),
  vanished: v.optional(Vanished),
  maxCancel: v.optional(MaxCancel),
  tenants: v.optional(v.record(v.string(), v.strictObject(TenantConfig.entries)), {}),
})
export type ConfigFile = v.InferOutput<typeof ConfigFile>
export type TenantConfig = v.InferOutput<typeof TenantConfig>

export interface Settings {
  env: Record<string, string | undefined>
  config: ConfigFile
  /** Every secret found, so that output can be scrubbed of them whatever goes wrong. */
  secrets: string[]
}

export interface GingrAccountSettings {
  subdomain: string
  apiKey: string
  baseUrl?: string
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/

/** Parses `KEY=VALUE` lines: comments, blank lines, `export` and quotes as a shell user writes them. */
export function parseEnvFile(text: string, path: string): Record<string, string> {
  const values: Record<string, string> = {}
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^\s*(#.*)?$/.test(line)) return
    const match = ENV_LINE.exec(line)
    // The line itself is not quoted back: it may hold a secret.
    if (!match) throw new UsageError(`${path} line ${index + 1} is not a KEY=VALUE line.`)
    const [, key, raw = ''] = match as unknown as [string, string, string]
    // `KEY="value"   # comment`: the comment goes, then the quotes.
    const quoted = /^(['"])(.*?)\1(?:\s+#.*)?$/.exec(raw)
    values[key] = quoted ? (quoted[2] ?? '') : raw.replace(/\s+#.*$/, '')
  })
  return values
}

/** Settings files are a few kilobytes; anything past this is not one (a log, /dev/zero). */
export const SETTINGS_FILE_LIMIT_BYTES = 1024 * 1024

/**
 * A settings file's text: a regular file under SETTINGS_FILE_LIMIT_BYTES, read whole. Opened
 * without blocking, so a FIFO (which would wait for a writer forever) is refused like a device.
 */
function readText(path: string, what: string): string {
  let fd: number | undefined
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new UsageError(`The ${what} ${path} is not a regular file.`)
    if (stat.size > SETTINGS_FILE_LIMIT_BYTES) {
      throw new UsageError(`The ${what} ${path} is ${stat.size} bytes; a settings file may hold at most ${SETTINGS_FILE_LIMIT_BYTES}.`)
    }
    return readFileSync(fd, 'utf8').replace(/^\uFEFF/, '')
  } catch (error) {
    if (error instanceof UsageError) throw error
    const code = (error as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (code ?? 'unknown error')
    throw new UsageError(`Cannot read the ${what} ${path}: ${reason}.`)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export function readConfigFile(path: string): ConfigFile {
  const text = readText(path, 'config file')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Never the parser's own message: it quotes what it found, which may be the key.
    const at = jsonSyntaxError(text)
    throw new UsageError(`The config file ${path} is not valid JSON${at ? ` (line ${at.line}, column ${at.column})` : ''}.`)
  }
  const result = v.safeParse(ConfigFile, json)
  if (!result.success) throw new UsageError(`The config file ${path} ${describeIssue(result.issues[0])}`)
  return result.output
}

/**
 * One validation issue in plain words, never with the value it found (valibot's messages quote
 * it: a numeric apiKey, a baseUrl with a password). A key the schema does not know gets the
 * nearest one it does.
 */
function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return 'is not valid.'
  const path = issue.path ?? []
  const keys = path.map((item) => String(item.key))
  const where = describePath(keys)
  if (issue.expected === 'never') {
    const unknown = keys.at(-1) ?? '?'
    const known = keys.length === 1 ? Object.keys(ConfigFile.entries) : keys[0] === 'tenants' ? Object.keys(TenantConfig.entries) : []
    const near = nearest(unknown, known)
    const inTenant = keys.length === 3 ? ` in tenant ${keys[1]}` : ''
    return `has an unknown setting \`${unknown}\`${inTenant}${near ? `; did you mean \`${near}\`?` : '.'}`
  }
  const bound =
    issue.type === 'min_value' ? `at least ${issue.requirement}` : issue.type === 'max_value' ? `at most ${issue.requirement}` : undefined
  const expected = bound ?? EXPECTED[issue.type] ?? 'a valid value'
  return `is not valid at ${where}: expected ${expected}.`
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  object: 'an object',
  strict_object: 'an object',
  record: 'an object',
  integer: 'a whole number',
  non_empty: 'a non-empty string',
  url: 'an http:// or https:// URL',
  regex: 'an http:// or https:// URL',
}

function describePath(keys: string[]): string {
  if (keys.length === 0) return 'the top level'
  if (keys[0] === 'tenants' && keys.length >= 2)
    return keys.length === 2 ? `tenant ${keys[1]}` : `\`${keys.slice(2).join('.')}\` of tenant ${keys[1]}`
  return `\`${keys.join('.')}\``
}

/** The known key a typo most likely meant: same letters ignoring case, else at most two edits away. */
function nearest(typed: string, known: string[]): string | undefined {
  const folded = known.find((key) => key.toLowerCase() === typed.toLowerCase())
  if (folded) return folded
  let best: { key: string; distance: number } | undefined
  for (const key of known) {
    const distance = editDistance(typed.toLowerCase(), key.toLowerCase())
    if (distance <= 2 && (!best || distance < best.distance)) best = { key, distance }
  }
  return best?.key
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const [above = 0, left = 0, diagonal = 0] = [previous[j], current[j - 1], previous[j - 1]]
      current[j] = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 3
}

export function loadSettings(options: { envFile?: string; configPath?: string; env?: Record<string, string | undefined> }): Settings {
  const env = { ...(options.env ?? process.env) }
  if (options.envFile) Object.assign(env, parseEnvFile(readText(options.envFile, 'env file'), options.envFile))
  const configPath = options.configPath ?? (env.GINGR_SYNC_CONFIG || undefined)
  const config = configPath ? readConfigFile(configPath) : { tenants: {} }
  const tenants = Object.values(config.tenants)
  const secrets = [
    env.GINGR_API_KEY,
    // DATABASE_URL's password however it was written, percent-encoded or not (src/db/url.ts).
    ...(env.DATABASE_URL ? passwordsOf(env.DATABASE_URL) : []),
    ...[env.GINGR_BASE_URL, env.GINGR_SYNC_PING_URL, ...tenants.flatMap((t) => [t.baseUrl, t.pingUrl])].map(urlPassword),
    ...tenants.map((t) => t.apiKey),
  ]
  return { env, config, secrets: secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4) }
}

/** The password a URL carries (a Gingr proxy's, a monitor's, the database's), to be scrubbed too. */
function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return decodeURIComponent(new URL(url).password) || undefined
  } catch {
    return undefined
  }
}

export function requireDatabaseUrl(settings: Settings): string {
  const url = settings.env.DATABASE_URL
  if (!url) throw new UsageError('DATABASE_URL is not set: put it in the env file (--env-file) or the environment.')
  // What cannot be right whatever the server says (an sslmode that is none, a password that needs
  // percent-encoding) is a UsageError naming it: exit 2, before anything connects.
  parseDatabaseUrl(url)
  return url
}

/**
 * The run-wide Gingr settings, before any tenant: a malformed shared value, or no key (or no
 * account) anywhere, would fail every tenant alike, so it is a configuration error (exit 2).
 */
export function checkGingrSettings(settings: Settings): void {
  const { GINGR_API_KEY, GINGR_BASE_URL, GINGR_SUBDOMAIN } = settings.env
  if (GINGR_BASE_URL && !v.is(GingrBaseUrl, GINGR_BASE_URL)) throw new UsageError('GINGR_BASE_URL is not an http:// or https:// URL.')
  if (GINGR_SUBDOMAIN && !isGingrSubdomain(GINGR_SUBDOMAIN)) {
    throw new UsageError('GINGR_SUBDOMAIN is not a Gingr subdomain (the NAME of NAME.gingrapp.com: letters, digits and dashes).')
  }
  const tenants = Object.values(settings.config.tenants)
  if (!GINGR_API_KEY && !tenants.some((t) => t.apiKey))
    throw new UsageError('GINGR_API_KEY is not set: put it in the env file (--env-file) or the environment.')
  if (!GINGR_SUBDOMAIN && !GINGR_BASE_URL && !tenants.some((t) => t.subdomain || t.baseUrl)) {
    throw new UsageError('GINGR_SUBDOMAIN is not set: put it in the env file (--env-file) or the environment.')
  }
}

/**
 * The Gingr account a tenant is synced with: its own from the config file, else the shared one.
 * What is missing or wrong for this tenant alone fails this tenant alone (TenantSettingError).
 */
export function gingrAccountFor(settings: Settings, tenantId: string): GingrAccountSettings {
  const own = settings.config.tenants[tenantId] ?? {}
  const apiKey = own.apiKey ?? (settings.env.GINGR_API_KEY || undefined)
  const baseUrl = own.baseUrl ?? (settings.env.GINGR_BASE_URL || undefined)
  const subdomain = own.subdomain ?? (settings.env.GINGR_SUBDOMAIN || undefined)
  if (!apiKey) throw new TenantSettingError('it has no Gingr API key: GINGR_API_KEY is not set, and the config file gives it none.')
  if (!subdomain && !baseUrl)
    throw new TenantSettingError('it has no Gingr account: GINGR_SUBDOMAIN is not set, and the config file gives it none.')
  if (subdomain && !baseUrl && !isGingrSubdomain(subdomain)) {
    throw new TenantSettingError('its subdomain in the config file is not a Gingr subdomain (letters, digits and dashes).')
  }
  return { subdomain: subdomain ?? '', apiKey, ...(baseUrl ? { baseUrl } : {}) }
}

/**
 * GINGR_SYNC_STATEMENT_TIMEOUT: seconds PostgreSQL lets one statement run, waiting for a lock
 * included, before it cancels it (and the tenant fails, rolled back). Never "no limit": a row lock
 * held by the application would stall the hourly run for ever. A window of 50,000 reservations
 * writes in seconds, so the default leaves a wide margin. A setting of its own rather than a
 * DATABASE_URL parameter, since that URL is often Prisma's too.
 */
export const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 300

/** The bound to set on the connection; undefined when DATABASE_URL sets its own (which then holds). */
export function statementTimeoutMs(settings: Settings): number | undefined {
  if (!settings.env.GINGR_SYNC_STATEMENT_TIMEOUT?.trim() && urlSetsStatementTimeout(settings.env.DATABASE_URL)) return undefined
  return secondsSetting(settings, 'GINGR_SYNC_STATEMENT_TIMEOUT', DEFAULT_STATEMENT_TIMEOUT_SECONDS) * 1000
}

/** `?statement_timeout=…` or `?options=-c statement_timeout=…`: the operator's own bound. */
function urlSetsStatementTimeout(url: string | undefined): boolean {
  if (!url) return false
  try {
    const { parameters } = parseDatabaseUrl(url)
    return 'statement_timeout' in parameters || /statement_timeout/.test(parameters.options ?? '')
  } catch {
    return false // requireDatabaseUrl says what is wrong with it.
  }
}

/**
 * --max-runtime (or GINGR_SYNC_MAX_RUNTIME): seconds the whole run may take. Past it the tenant in
 * flight is rolled back and the run exits 4, before the next hourly run is due: a little under the
 * hour, and under install-cron.sh's hard limit (58 minutes), which only a run that cannot stop meets.
 */
export const DEFAULT_MAX_RUNTIME_SECONDS = 55 * 60

export function maxRuntimeMs(settings: Settings, flag: string | undefined): number {
  if (flag !== undefined) return secondsValue('--max-runtime', flag) * 1000
  return secondsSetting(settings, 'GINGR_SYNC_MAX_RUNTIME', DEFAULT_MAX_RUNTIME_SECONDS) * 1000
}

/**
 * --concurrency (or GINGR_SYNC_CONCURRENCY): tenants synced at once. A tenant's time is mostly
 * waiting on Gingr, so a few side by side divide the run's length by about as many, while each
 * holds one database connection and one window in memory. 4 brings 500 tenants of ~6 s each from
 * most of the hour to about 13 minutes, on a pool of 5 connections; the README says more.
 */
export const DEFAULT_CONCURRENCY = 4
export const MAX_CONCURRENCY = 64

export function concurrencyOf(settings: Settings, flag: string | undefined): number {
  if (flag !== undefined) return wholeNumberSetting('--concurrency', flag, 1, MAX_CONCURRENCY, 'tenants')
  const value = settings.env.GINGR_SYNC_CONCURRENCY?.trim()
  return value ? wholeNumberSetting('GINGR_SYNC_CONCURRENCY', value, 1, MAX_CONCURRENCY, 'tenants') : DEFAULT_CONCURRENCY
}

/**
 * GINGR_SYNC_MAX_RESPONSE_MB: the largest Gingr answer read, in MB after decompression; past it
 * the request fails (not retried). Unset: the client's default.
 */
export function maxResponseBytes(settings: Settings): number | undefined {
  const value = settings.env.GINGR_SYNC_MAX_RESPONSE_MB?.trim()
  return value ? wholeNumberSetting('GINGR_SYNC_MAX_RESPONSE_MB', value, 1, 4096, 'MB') * 1024 * 1024 : undefined
}

function secondsSetting(settings: Settings, name: string, fallback: number): number {
  const value = settings.env[name]?.trim()
  return value ? secondsValue(name, value) : fallback
}

function secondsValue(name: string, value: string): number {
  return wholeNumberSetting(name, value, 1, 86_400, 'seconds')
}

function wholeNumberSetting(name: string, value: string, min: number, max: number, unit: string): number {
  const number = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN
  if (!(number >= min && number <= max))
    throw new UsageError(`${name} must be a whole number of ${unit} from ${min} to ${max}, not "${value}".`)
  return number
}

/**
 * What a tenant's run does with reservations deleted in Gingr, and how many it may cancel: the
 * command line, then the tenant's config, then the file's; default cancel, within the guard's own
 * limit. `limitSetting` names, for the guard's warning, the setting that raises the limit.
 */
export function vanishedFor(settings: Settings, tenantId: string, flags: { vanished?: 'cancel' | 'report'; maxCancel?: number }) {
  const own = settings.config.tenants[tenantId] ?? {}
  const maxCancel = flags.maxCancel ?? own.maxCancel ?? settings.config.maxCancel
  return {
    mode: flags.vanished ?? own.vanished ?? settings.config.vanished ?? 'cancel',
    ...(maxCancel === undefined ? {} : { maxCancel }),
    limitSetting: `--max-cancel (or "maxCancel" for tenant ${tenantId} in --config)`,
  }
}

/** The tenant's own monitoring URL (`pingUrl` in --config), if it has one; one that is not http(s) is this tenant's error. */
export function tenantPingUrl(settings: Settings, tenantId: string): string | undefined {
  const url = settings.config.tenants[tenantId]?.pingUrl
  if (url !== undefined && !v.is(GingrBaseUrl, url))
    throw new TenantSettingError('its pingUrl in the config file is not an http:// or https:// URL.')
  return url
}

/** The window's size for a tenant: the command line, then the tenant's config, then the file's, then 7/30. */
export function windowDaysFor(settings: Settings, tenantId: string, flags: { pastDays?: number; futureDays?: number }) {
  const own = settings.config.tenants[tenantId] ?? {}
  return {
    pastDays: flags.pastDays ?? own.pastDays ?? settings.config.pastDays ?? 7,
    futureDays: flags.futureDays ?? own.futureDays ?? settings.config.futureDays ?? 30,
  }
}
