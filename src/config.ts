import { readFileSync } from 'node:fs'
import * as v from 'valibot'
import { UsageError, errorMessage } from './errors.ts'

/**
 * Settings come from the environment, from `--env-file` (KEY=VALUE lines; it wins over the inherited
 * environment, since the operator named it) and from a JSON `--config` file that can give a tenant
 * its own Gingr account and window. Nothing is read from the working directory on its own: cron's
 * working directory is arbitrary.
 */

const WindowDays = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(365))

const TenantConfig = v.object({
  subdomain: v.optional(v.pipe(v.string(), v.nonEmpty())),
  apiKey: v.optional(v.pipe(v.string(), v.nonEmpty())),
  baseUrl: v.optional(v.pipe(v.string(), v.url())),
  pastDays: v.optional(WindowDays),
  futureDays: v.optional(WindowDays),
})

export const ConfigFile = v.strictObject({
  pastDays: v.optional(WindowDays),
  futureDays: v.optional(WindowDays),
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
    const quoted = /^(['"])(.*)\1$/.exec(raw)
    values[key] = quoted ? (quoted[2] ?? '') : raw.replace(/\s+#.*$/, '')
  })
  return values
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : errorMessage(error)
    throw new UsageError(`Cannot read the ${what} ${path}: ${reason}.`)
  }
}

export function readConfigFile(path: string): ConfigFile {
  let json: unknown
  try {
    json = JSON.parse(readText(path, 'config file'))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`The config file ${path} is not valid JSON: ${errorMessage(error)}.`)
  }
  const result = v.safeParse(ConfigFile, json)
  if (!result.success) {
    const issue = result.issues[0]
    const where = issue ? v.getDotPath(issue) : null
    throw new UsageError(`The config file ${path} is not valid${where ? ` at ${where}` : ''}: ${issue?.message ?? 'unknown shape'}.`)
  }
  return result.output
}

export function loadSettings(options: { envFile?: string; configPath?: string; env?: Record<string, string | undefined> }): Settings {
  const env = { ...(options.env ?? process.env) }
  if (options.envFile) Object.assign(env, parseEnvFile(readText(options.envFile, 'env file'), options.envFile))
  const configPath = options.configPath ?? (env.GINGR_SYNC_CONFIG || undefined)
  const config = configPath ? readConfigFile(configPath) : { tenants: {} }
  const secrets = [env.GINGR_API_KEY, databasePassword(env.DATABASE_URL), ...Object.values(config.tenants).map((t) => t.apiKey)]
  return { env, config, secrets: secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4) }
}

function databasePassword(url: string | undefined): string | undefined {
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
  try {
    const parsed = new URL(url)
    if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new Error('scheme')
  } catch {
    throw new UsageError('DATABASE_URL is not a postgres:// URL.')
  }
  return url
}

/** The Gingr account a tenant is synced with: its own from the config file, else the shared one. */
export function gingrAccountFor(settings: Settings, tenantId: string): GingrAccountSettings {
  const own = settings.config.tenants[tenantId] ?? {}
  const apiKey = own.apiKey ?? (settings.env.GINGR_API_KEY || undefined)
  const baseUrl = own.baseUrl ?? (settings.env.GINGR_BASE_URL || undefined)
  const subdomain = own.subdomain ?? (settings.env.GINGR_SUBDOMAIN || undefined)
  if (!apiKey) throw new UsageError(`GINGR_API_KEY is not set (needed for tenant ${tenantId}).`)
  if (!subdomain && !baseUrl) throw new UsageError(`GINGR_SUBDOMAIN is not set (needed for tenant ${tenantId}).`)
  if (baseUrl && !URL.canParse(baseUrl)) throw new UsageError('GINGR_BASE_URL is not a URL.')
  return { subdomain: subdomain ?? '', apiKey, ...(baseUrl ? { baseUrl } : {}) }
}

/**
 * GINGR_SYNC_STATEMENT_TIMEOUT: seconds PostgreSQL lets one statement run, waiting for a lock
 * included, before it cancels it (and the run fails, rolled back). Unset: no limit, the server's own.
 * A setting of its own rather than a DATABASE_URL parameter, since that URL is often Prisma's too.
 */
export function statementTimeoutMs(settings: Settings): number | undefined {
  const value = settings.env.GINGR_SYNC_STATEMENT_TIMEOUT?.trim()
  if (!value) return undefined
  const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!(seconds >= 1 && seconds <= 86_400)) {
    throw new UsageError(`GINGR_SYNC_STATEMENT_TIMEOUT must be a whole number of seconds from 1 to 86400, not "${value}".`)
  }
  return seconds * 1000
}

/** The window's size for a tenant: the command line, then the tenant's config, then the file's, then 7/30. */
export function windowDaysFor(settings: Settings, tenantId: string, flags: { pastDays?: number; futureDays?: number }) {
  const own = settings.config.tenants[tenantId] ?? {}
  return {
    pastDays: flags.pastDays ?? own.pastDays ?? settings.config.pastDays ?? 7,
    futureDays: flags.futureDays ?? own.futureDays ?? settings.config.futureDays ?? 30,
  }
}
