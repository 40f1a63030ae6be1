import { createConnection } from 'node:net'
import postgres from 'postgres'
import { errorMessage } from '../errors.ts'
import { type DatabaseTarget, isSocket, parseDatabaseUrl, passwordsOf, type SslMode } from './url.ts'

export type Sql = postgres.Sql
export type TransactionSql = postgres.TransactionSql
/** Anything a query can run on: the pool, or the open transaction of a tenant's run. */
export type Queryable = Sql | TransactionSql

export interface ConnectOptions {
  /** Pool size; one run needs one connection at a time, `status` and tests a few. */
  max?: number
  connectTimeoutSeconds?: number
  statementTimeoutMs?: number
  /**
   * Seconds an idle connection stays open (default 2: a finished command never waits on the pool
   * to exit; 0: until the pool ends). A long-lived process that queries now and then keeps its
   * connection longer.
   */
  idleTimeoutSeconds?: number
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

/** postgres.js's `ssl` for libpq's sslmode: `allow` is taken as `prefer`, which it matches in effect. */
const DRIVER_SSL: Record<SslMode, false | 'prefer' | 'require' | 'verify-full'> = {
  disable: false,
  allow: 'prefer',
  prefer: 'prefer',
  require: 'require',
  // postgres.js checks the certificate and the host name for both: verify-ca is the stricter check here.
  'verify-ca': 'verify-full',
  'verify-full': 'verify-full',
}

/** The URL is read by src/db/url.ts, which refuses (UsageError) what cannot be right. */
export function connect(databaseUrl: string, options: ConnectOptions = {}): Sql {
  const target = parseDatabaseUrl(databaseUrl)
  const { onQuery, statementTimeoutMs } = options
  const [first = 'localhost'] = target.hosts
  const [firstPort = 5432] = target.ports
  const socket = isSocket(first)
  return postgres({
    // As postgres.js would have read them from the URL itself (strings, numbers, false).
    ...(target.driverOptions as postgres.Options<typeof utcTimestamps>),
    // Arrays, one entry per host, which postgres.js takes though its types say one value: an IPv6
    // address survives only so (its string form is split at every colon).
    host: target.hosts as unknown as string,
    port: target.ports as unknown as number,
    // postgres.js connects to a socket by its path only; libpq names the file after the port.
    ...(socket ? { path: `${first}/.s.PGSQL.${firstPort}` } : {}),
    ...(target.database === undefined ? {} : { database: target.database }),
    ...(target.user === undefined ? {} : { username: target.user }),
    ...(target.password === undefined ? {} : { password: target.password }),
    // As libpq: a Unix socket never speaks SSL (PostgreSQL refuses it there), whatever sslmode says.
    ssl: socket ? false : DRIVER_SSL[target.sslMode],
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 2,
    onnotice: () => {},
    connection: {
      application_name: 'gingr-sync',
      // The URL's own session settings (`options`, `statement_timeout`, ...), as PostgreSQL takes them.
      ...target.parameters,
      // Then what gingr-sync cannot do without: UTC (above), the statement timeout it was given
      // (config.ts passes none when only the URL sets one), Prisma's `?schema=` (quoted: Prisma takes
      // the name as it is written).
      TimeZone: 'UTC',
      ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }),
      ...(target.schema === undefined ? {} : { search_path: `"${target.schema.replaceAll('"', '""')}"` }),
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
  host?: unknown
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
/** The one home of "run migrate": a table (or column) the sync reads is not there. */
const schemaMissing: Sentence = (server, detail) =>
  `The schema is missing in PostgreSQL at ${server} (${detail}): run \`gingr-sync migrate\`.`

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
  '3F000': (server, detail) => `PostgreSQL at ${server} has no such schema (${detail}): check ?schema= in DATABASE_URL.`,
  '42P01': schemaMissing, // undefined_table
  // undefined_object; at the login, a query parameter of the URL that is no PostgreSQL setting.
  '42704': (server, detail) => {
    const parameter = /unrecognized configuration parameter "([^"]*)"/.exec(detail)?.[1]
    return parameter === undefined
      ? `PostgreSQL at ${server} failed with 42704: ${detail}`
      : `PostgreSQL at ${server} has no setting "${parameter}": remove ?${parameter}= from DATABASE_URL.`
  },
  '42703': (server, detail) =>
    `The schema is incomplete in PostgreSQL at ${server} (${detail}): run \`gingr-sync migrate\` (\`gingr-sync doctor\` lists what is missing).`,
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
  return (code !== '' && Object.hasOwn(SENTENCES, code)) || isMissingSocket(error)
}

/** A socket file that is not there: only a connect's ENOENT is the database's, not a file's. */
function isMissingSocket(error: unknown): boolean {
  return codeOf(error) === 'ENOENT' && (error as { syscall?: unknown }).syscall === 'connect'
}

/**
 * One sentence an operator can act on, for the failures a cron job actually meets. Pass the URL
 * to name the server; its password never appears (the result is scrubbed of it as well).
 */
export function describeDbError(error: unknown, url?: string): string {
  const code = codeOf(error)
  const detail = errorMessage(error)
  const target = url === undefined ? undefined : readTarget(url)
  const server = target?.server ?? serverOf(error)
  const known = SENTENCES[code]
  const sentence = isMissingSocket(error)
    ? `PostgreSQL has no socket at ${server}: is the server running, and are the socket folder and the port in DATABASE_URL its own?`
    : target && sslWanted(target) && isHandshakeCut(error)
      ? `PostgreSQL at ${server} ended the connection during the SSL handshake that DATABASE_URL asks for (sslmode=${target.sslMode}): does the server accept SSL connections?`
      : known
        ? known(server, detail)
        : error instanceof postgres.PostgresError
          ? `PostgreSQL at ${server} failed with ${code}: ${detail}`
          : `The database at ${server} could not be used: ${detail}`
  return url ? scrub(sentence, url) : sentence
}

/** A database failure, already told as one sentence that names the server (exit 1). */
export class DatabaseFailure extends Error {
  override name = 'DatabaseFailure'
}

/**
 * describeDbError, with the questions only the server can answer asked of it: whether it speaks
 * SSL at all, whether the schema DATABASE_URL names exists. Asked only once something failed, so a
 * run that works pays nothing. A failure that is not the database's is returned as it was.
 */
export async function explainDbFailure(error: unknown, url: string, sql?: Queryable): Promise<unknown> {
  if (!isDbError(error)) return error
  const target = readTarget(url)
  const code = codeOf(error)
  let sentence: string | undefined
  if (target && sslWanted(target) && CUT_SHORT.has(code) && (await sslAnswer(target, error)) === 'no') {
    sentence = `PostgreSQL at ${target.server} does not accept SSL connections, but DATABASE_URL asks for sslmode=${target.sslMode}: enable SSL on the server, or set sslmode=prefer (SSL when the server offers it) or sslmode=disable.`
  }
  if (!sentence && sql && (code === '42P01' || code === '3F000')) {
    const path = await missingSchema(sql).catch(() => undefined)
    if (path !== undefined) {
      const server = target?.server ?? serverOf(error)
      sentence = target?.schema
        ? `PostgreSQL at ${server} has no schema "${target.schema}" (?schema= in DATABASE_URL): check its name, or create it (CREATE SCHEMA).`
        : `PostgreSQL at ${server} has none of the schemas of the search path (${path}): create one, or name one with ?schema= in DATABASE_URL.`
    }
  }
  return new DatabaseFailure(scrub(sentence ?? describeDbError(error, url), url), { cause: error })
}

/**
 * The search path when none of its schemas exists (a `?schema=` that names no schema), else
 * undefined. PostgreSQL then resolves no table at all, and creates nothing ("no schema has been
 * selected to create in"): running migrate would not help.
 */
export async function missingSchema(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<{ schema: string | null; path: string }[]>`
    SELECT current_schema() AS schema, current_setting('search_path') AS path`
  return row && row.schema === null ? row.path : undefined
}

/** The codes of a connection that ended before its first answer, as a refused SSL handshake ends. */
const CUT_SHORT = new Set(['ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED'])

const sslWanted = (target: DatabaseTarget) =>
  !isSocket(target.hosts[0] ?? '') && ['require', 'verify-ca', 'verify-full'].includes(target.sslMode)

/**
 * postgres.js asks for SSL, and when the server says no ("N") it starts the TLS handshake anyway,
 * which the server reads as garbage and hangs up on: Node's words for that are these.
 */
function isHandshakeCut(error: unknown): boolean {
  return codeOf(error) === 'ECONNRESET' && /before secure TLS connection was established/i.test(errorMessage(error))
}

/** PostgreSQL's SSLRequest: length 8, then the code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
const SSL_PROBE_MS = 5_000

/** Asks the server the SSL question itself: one byte, `S` or `N`, and the connection is closed. */
function sslAnswer(target: DatabaseTarget, error: unknown): Promise<'yes' | 'no' | 'unknown'> {
  const fields: ErrorFields = typeof error === 'object' && error !== null ? error : {}
  // Of several hosts, the one that failed, when the error says which.
  const host = typeof fields.host === 'string' ? fields.host : (target.hosts[0] ?? 'localhost')
  const port = typeof fields.port === 'number' ? fields.port : (target.ports[0] ?? 5432)
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (answer: 'yes' | 'no' | 'unknown') => {
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done('unknown'), SSL_PROBE_MS)
    socket.once('connect', () => socket.write(SSL_REQUEST))
    socket.once('data', (data) => done(data[0] === 0x53 ? 'yes' : data[0] === 0x4e ? 'no' : 'unknown'))
    socket.once('error', () => done('unknown'))
    socket.once('close', () => done('unknown'))
  })
}

function readTarget(url: string): DatabaseTarget | undefined {
  try {
    return parseDatabaseUrl(url)
  } catch {
    // A URL the parser refuses never got as far as a connection; the error's address is used.
    return undefined
  }
}

/** Every password the URL may hold, however it was written, is replaced by `***`. */
function scrub(sentence: string, url: string): string {
  return passwordsOf(url).reduce((text, password) => text.split(password).join('***'), sentence)
}

function codeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as ErrorFields).code : undefined
  return typeof code === 'string' ? code : ''
}

/** Without a URL: the address postgres.js puts on connection errors (Node's TLS errors say `host`). */
function serverOf(error: unknown): string {
  const fields: ErrorFields = typeof error === 'object' && error !== null ? error : {}
  // postgres.js gives arrays (one entry per host) on its own errors, plain values on socket ones.
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value)
  const address = first(fields.address) ?? first(fields.host)
  const port = first(fields.port)
  return typeof address === 'string' ? `${address}${port === undefined ? '' : `:${String(port)}`}` : 'the server'
}
