import type { ArgsDef } from 'citty'
import * as v from 'valibot'
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_RUNTIME_SECONDS, loadSettings, MAX_CONCURRENCY, type Settings } from '../config.ts'
import { connect, explainDbFailure, type Sql } from '../db/connect.ts'
import { UsageError } from '../errors.ts'
import { createLogger, type Logger } from '../log.ts'
import { registerSecrets } from '../secrets.ts'
import { DEFAULT_MIN_INTERVAL_MINUTES } from '../sync/hourly.ts'
import { PRODUCTION_TIMING } from '../timing.ts'

/** Flags every command takes. */
export const commonArgs = {
  'env-file': { type: 'string', valueHint: 'path', description: 'Read KEY=VALUE settings from this file' },
  config: { type: 'string', valueHint: 'path', description: 'JSON file with per-tenant Gingr accounts and windows (or GINGR_SYNC_CONFIG)' },
  json: { type: 'boolean', description: 'Print one JSON object on stdout' },
  verbose: { type: 'boolean', description: 'More detail, and stack traces on errors' },
  quiet: { type: 'boolean', description: 'Only warnings and errors' },
} as const satisfies ArgsDef

/** The sync's own flags; the top-level command takes them too, since sync is its default. */
export const syncArgs = {
  tenant: { type: 'string', valueHint: 'id', description: 'Sync this tenant only (default: every enabled tenant)' },
  'dry-run': { type: 'boolean', description: 'Do everything, then roll back: nothing written' },
  'past-days': { type: 'string', valueHint: '7', description: 'Days before today in the window (0-365)' },
  'future-days': { type: 'string', valueHint: '30', description: 'Days after today in the window (0-365)' },
  timeout: {
    type: 'string',
    valueHint: String(PRODUCTION_TIMING.gingrTimeoutMs / 1000),
    description: 'Seconds before one Gingr request is given up (1-600)',
  },
  'ping-url': {
    type: 'string',
    valueHint: 'url',
    description: 'Healthchecks-style URL pinged at start, success, failure (or GINGR_SYNC_PING_URL)',
  },
  vanished: {
    type: 'string',
    valueHint: 'cancel|report',
    description: 'Reservations deleted in Gingr: cancel them (default) or only report them (or "vanished" in --config)',
  },
  'max-cancel': {
    type: 'string',
    valueHint: 'n',
    description: 'Most reservations one run may cancel per tenant (default: max(10, 10% of the window))',
  },
  concurrency: {
    type: 'string',
    valueHint: String(DEFAULT_CONCURRENCY),
    description: `Tenants synced at once (1-${MAX_CONCURRENCY}; or GINGR_SYNC_CONCURRENCY)`,
  },
  'min-interval': {
    type: 'string',
    valueHint: String(DEFAULT_MIN_INTERVAL_MINUTES),
    description: 'Minutes: a tenant synced more recently than this (by any host) is left alone; not with --tenant (0-10080)',
  },
  'metrics-file': {
    type: 'string',
    valueHint: 'path',
    description: "After the run, write its metrics there in Prometheus's text format (node_exporter's textfile collector)",
  },
  'max-runtime': {
    type: 'string',
    valueHint: String(DEFAULT_MAX_RUNTIME_SECONDS),
    description: 'Seconds the whole run may take; past it the tenant in flight is rolled back, exit 4 (or GINGR_SYNC_MAX_RUNTIME)',
  },
  ...commonArgs,
} as const satisfies ArgsDef

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * citty ignores flags it does not know and lets a string flag swallow the next flag as its value;
 * an operator's typo must instead stop the run before anything happens.
 */
export function assertKnownArgs(rawArgs: readonly string[], args: ArgsDef): void {
  const names = new Map(Object.entries(args).map(([name, def]) => [kebab(name), def]))
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i] ?? ''
    if (token === '--') throw new UsageError('Unexpected "--".')
    if (!token.startsWith('-')) throw new UsageError(`Unexpected argument "${token}".`)
    const [flag = '', inline] = token.replace(/^--?/, '').split(/=(.*)/s, 2)
    const negated = flag.startsWith('no-') ? names.get(flag.slice(3)) : undefined
    const def = names.get(flag) ?? negated
    if (!def) throw new UsageError(`Unknown option ${token.split('=')[0]}.`)
    if (def.type === 'boolean') {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) throw new UsageError(`--${flag} takes no value.`)
      continue
    }
    if (inline !== undefined) {
      if (inline === '') throw new UsageError(`--${flag} needs a value.`)
      continue
    }
    const next = rawArgs[i + 1]
    if (next === undefined || next.startsWith('--')) throw new UsageError(`--${flag} needs a value.`)
    i++
  }
}

/** A whole number within bounds, or a usage error that names the flag and what it got. */
export function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const parsed = v.safeParse(v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.minValue(min), v.maxValue(max)), value.trim())
  if (!parsed.success) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not "${value}".`)
  return parsed.output
}

export interface CommonFlags {
  'env-file'?: string
  config?: string
  json?: boolean
  verbose?: boolean
  quiet?: boolean
}

/** What every command starts with: a logger on stderr and the settings, secrets registered first. */
export function prepare(flags: CommonFlags): { log: Logger; settings: Settings } {
  const log = createLogger({ verbose: flags.verbose, quiet: flags.quiet })
  const settings = loadSettings({ envFile: flags['env-file'], configPath: flags.config })
  registerSecrets(settings.secrets)
  return { log, settings }
}

export interface OpenDatabase {
  sql: Sql
  statements: () => number
  /**
   * What to throw for a failure met on this database: a database failure as one sentence naming
   * the server (src/db/connect.ts), anything else as it was. Every command's failures before (or
   * outside) a tenant pass through here, so that none says "at the server".
   */
  explain: (error: unknown) => Promise<unknown>
}

/**
 * Where the monitoring pings go (--ping-url, else GINGR_SYNC_PING_URL): an http(s) URL, or none
 * for a dry run, which by hand must not tell the monitor that the scheduled job is alive.
 */
export function monitorUrl(flag: string | undefined, settings: Settings, dryRun: boolean): string | undefined {
  const url = flag ?? (settings.env.GINGR_SYNC_PING_URL || undefined)
  if (url && !URL.canParse(url)) throw new UsageError('The ping URL is not a URL.')
  if (url && !/^https?:\/\//i.test(url)) throw new UsageError('The ping URL must be an http:// or https:// URL.')
  return dryRun ? undefined : url
}

/** A database connection that counts the statements it sends. */
export function openDatabase(url: string, options: { statementTimeoutMs?: number; max?: number } = {}): OpenDatabase {
  let count = 0
  const sql = connect(url, { onQuery: () => count++, statementTimeoutMs: options.statementTimeoutMs, max: options.max })
  return { sql, statements: () => count, explain: (error) => explainDbFailure(error, url, sql) }
}
