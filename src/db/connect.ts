import postgres from 'postgres'
import { errorMessage } from '../errors.ts'

export type Sql = postgres.Sql
export type TransactionSql = postgres.TransactionSql
/** Anything a query can run on: the pool, or the open transaction of a tenant's run. */
export type Queryable = Sql | TransactionSql

export interface ConnectOptions {
  /** Pool size; one run needs one connection at a time, `status` and tests a few. */
  max?: number
  connectTimeoutSeconds?: number
  statementTimeoutMs?: number
  /** Called with the text of every statement sent, so benchmarks can count them. */
  onQuery?: (query: string) => void
}

/**
 * Tailtown's `timestamp(3) without time zone` columns hold UTC wall time. postgres.js parses that
 * type (OID 1114) with `new Date(text)`, which reads a zone-less text as the *process's* local
 * time: under TZ=America/Denver every value read back would move by 6 or 7 hours. Reading it as
 * UTC here, and running every session in UTC (below) for values written, keeps both directions
 * right whatever the zone of the process or the database's default.
 * (Typed as a plain record so the client keeps postgres.js's default `Sql` type.)
 */
const utcTimestamps: Record<string, postgres.PostgresType> = {
  utcTimestamp: {
    to: 1114,
    from: [1114],
    // A `Z` suffix is ignored by timestamp-without-time-zone input, so an ISO instant lands as UTC wall time.
    serialize: (value: unknown) => (value instanceof Date ? value.toISOString() : String(value)),
    parse: (text: string) => new Date(`${text.replace(' ', 'T')}Z`),
  },
}

/**
 * Tailtown's DATABASE_URL is written for Prisma, whose own parameters postgres.js would pass on as
 * startup parameters, which PostgreSQL refuses ("unrecognized configuration parameter").
 * `schema` becomes the search_path; the pool settings are Prisma's business.
 */
const PRISMA_PARAMETERS = [
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'socket_timeout',
  'statement_cache_size',
  'sslaccept',
  'sslidentity',
  'sslpassword',
]

function withoutPrismaParameters(url: string): { url: string; searchPath?: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { url } // Multi-host URLs: postgres.js parses those itself.
  }
  const schema = parsed.searchParams.get('schema')
  const present = PRISMA_PARAMETERS.filter((name) => parsed.searchParams.has(name))
  if (present.length === 0) return { url }
  for (const name of present) parsed.searchParams.delete(name)
  return { url: parsed.toString(), ...(schema ? { searchPath: `"${schema.replaceAll('"', '""')}"` } : {}) }
}

export function connect(databaseUrl: string, options: ConnectOptions = {}): Sql {
  const { url, searchPath } = withoutPrismaParameters(databaseUrl)
  const { onQuery, statementTimeoutMs } = options
  return postgres(url, {
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    // Idle connections close soon, so a finished command never waits on the pool to exit.
    idle_timeout: 2,
    onnotice: () => {},
    connection: {
      TimeZone: 'UTC',
      application_name: 'gingr-sync',
      ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
      ...(searchPath === undefined ? {} : { search_path: searchPath }),
    },
    types: utcTimestamps,
    // No catalog query per new connection: one round trip less, and `onQuery` counts only our
    // statements. The price: array columns come back as text, so queries select arrays as json.
    fetch_types: false,
    debug: onQuery ? (_connection, query) => onQuery(query) : false,
  })
}

/** The URL with its password (in the authority or a `password=` parameter) replaced by `***`. */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://')
  // The last `@` ends the credentials: passwords with an unencoded `@` or `/` are still covered.
  const at = url.lastIndexOf('@')
  let redacted = url
  if (scheme >= 0 && at > scheme) {
    const credentials = url.slice(scheme + 3, at)
    const colon = credentials.indexOf(':')
    if (colon >= 0) redacted = `${url.slice(0, scheme + 3)}${credentials.slice(0, colon)}:***${url.slice(at)}`
  }
  return redacted.replace(/([?&]password=)[^&#]*/gi, '$1***')
}

interface ErrorFields {
  code?: unknown
  address?: unknown
  port?: unknown
}

type Sentence = (server: string, detail: string) => string

const terminated: Sentence = (server) =>
  `The connection to PostgreSQL at ${server} was terminated (a server restart or shutdown, or an administrator ended the session).`
const refusedLogin: Sentence = (server, detail) =>
  `PostgreSQL at ${server} rejected the login (${detail}): check the user and password in DATABASE_URL.`
const unresolved: Sentence = (server) => `The database host of ${server} could not be resolved: check the host name in DATABASE_URL.`
const noAnswer: Sentence = (server) =>
  `PostgreSQL at ${server} did not answer within the connect timeout: check the host, the port and any firewall.`

/** By error code: socket errors, postgres.js's own connection codes, and SQLSTATEs. */
const SENTENCES: Record<string, Sentence> = {
  ECONNREFUSED: (server) => `PostgreSQL at ${server} refused the connection: is the server running and listening on that host and port?`,
  ENOTFOUND: unresolved,
  EAI_AGAIN: unresolved,
  CONNECT_TIMEOUT: noAnswer,
  ETIMEDOUT: noAnswer,
  '28P01': refusedLogin, // invalid_password
  '28000': refusedLogin, // invalid_authorization_specification: no such role, pg_hba.conf rejects
  '3D000': (server, detail) => `PostgreSQL at ${server} has no such database (${detail}): check the database name in DATABASE_URL.`,
  '57014': (server, detail) =>
    /statement timeout/i.test(detail)
      ? `A statement ran longer than the statement timeout and was cancelled by PostgreSQL at ${server}.`
      : `A statement was cancelled by PostgreSQL at ${server} (${detail}).`,
  '57P01': terminated, // admin_shutdown, also pg_terminate_backend()
  '57P02': terminated, // crash_shutdown
  CONNECTION_CLOSED: terminated,
  CONNECTION_ENDED: terminated,
  CONNECTION_DESTROYED: terminated,
  ECONNRESET: terminated,
  EPIPE: terminated, // written to a connection the server had already closed
  '57P03': (server) => `PostgreSQL at ${server} is starting up or shutting down and accepts no connections yet.`,
  '53300': (server) => `PostgreSQL at ${server} has no free connection slots (too many connections).`,
}

/** An error from the database or the way to it, as opposed to one of gingr-sync's own. */
export function isDbError(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) return true
  const code = codeOf(error)
  return code !== '' && code in SENTENCES
}

/**
 * One sentence an operator can act on, for the failures a cron job actually meets. Pass the URL
 * to name the server; its password never appears (the result is scrubbed of it as well).
 */
export function describeDbError(error: unknown, url?: string): string {
  const code = codeOf(error)
  const detail = errorMessage(error)
  const server = serverOf(error, url)
  const known = SENTENCES[code]
  const sentence = known
    ? known(server, detail)
    : error instanceof postgres.PostgresError
      ? `PostgreSQL at ${server} failed with ${code}: ${detail}`
      : `The database at ${server} could not be used: ${detail}`
  const password = url ? passwordOf(url) : ''
  return password ? sentence.split(password).join('***') : sentence
}

function codeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as ErrorFields).code : undefined
  return typeof code === 'string' ? code : ''
}

/** host:port/database from the URL, else the address postgres.js puts on connection errors. */
function serverOf(error: unknown, url: string | undefined): string {
  if (url) {
    try {
      const { hostname, port, pathname } = new URL(url)
      return `${hostname}:${port || '5432'}${pathname}`
    } catch {
      // Multi-host and other URLs the WHATWG parser refuses: fall back to what the error says.
    }
  }
  const fields: ErrorFields = typeof error === 'object' && error !== null ? error : {}
  // postgres.js gives arrays (one entry per host) on its own errors, plain values on socket ones.
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value)
  const address = first(fields.address)
  const port = first(fields.port)
  return typeof address === 'string' ? `${address}${port === undefined ? '' : `:${String(port)}`}` : 'the server'
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password)
  } catch {
    return ''
  }
}
