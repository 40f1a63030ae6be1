/**
 * DATABASE_URL as Tailtown's operators already have it: written for Prisma, in libpq's URI form
 * (`postgresql://user:password@host:port/database?parameters`). postgres.js reads only part of that
 * form: a socket given as `?host=/run/postgresql` or as a `%2F`-encoded host is taken for a host
 * name or sent to PostgreSQL as a startup parameter (which it refuses: "unrecognized configuration
 * parameter"), as are Prisma's own parameters, and any `sslmode` it does not know turns SSL on with
 * certificate checks. So the URL is read once, here, into the driver's plain options; a URL that
 * cannot be right is refused with a sentence before anything connects.
 */
import { UsageError } from '../errors.ts'

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

export interface DatabaseTarget {
  /** Host names, addresses, or a socket's folder (it starts with `/`); several for a multi-host URL. */
  hosts: string[]
  /** One per host. */
  ports: number[]
  /** Undefined when the URL names none: the driver's defaults then apply (PGUSER, the user name). */
  database?: string
  user?: string
  password?: string
  sslMode: SslMode
  /** Prisma's `?schema=`, made the search path. */
  schema?: string
  /** Everything else in the query: PostgreSQL settings for the session (`options`, `statement_timeout`, ...). */
  parameters: Record<string, string>
  /** postgres.js's own options given in the query (`target_session_attrs`, `prepare`, ...), as it reads them. */
  driverOptions: Record<string, string | number | boolean>
  /** `host:port/database` for messages: never the user or the password. */
  server: string
}

/** A DATABASE_URL that cannot be right whatever the server says; the message never quotes the URL. */
export class DatabaseUrlError extends UsageError {
  override name = 'DatabaseUrlError'
}

/**
 * Prisma's parameters, which configure Prisma's own pool and TLS and mean nothing to PostgreSQL.
 * (`schema` is read, the rest left out.)
 */
const PRISMA_PARAMETERS = new Set([
  'schema',
  'connection_limit',
  'pool_timeout',
  'pgbouncer',
  'socket_timeout',
  'statement_cache_size',
  'sslaccept',
  'sslidentity',
  'sslpassword',
  'sslcert',
])

/**
 * postgres.js's options, which it has always read from the query too; connect() sets some of them
 * itself (the pool size, the timeouts), and its values win. `connect_timeout` is libpq's as well.
 */
const DRIVER_PARAMETERS = new Set([
  'idle_timeout',
  'connect_timeout',
  'max_lifetime',
  'max_pipeline',
  'backoff',
  'keep_alive',
  'prepare',
  'fetch_types',
  'publications',
  'target_session_attrs',
  'max',
  'debug',
  'sslnegotiation',
])
const NUMERIC_DRIVER_PARAMETERS = new Set([
  'idle_timeout',
  'connect_timeout',
  'max_lifetime',
  'max_pipeline',
  'backoff',
  'keep_alive',
  'max',
])

const ENCODE_HINT =
  'a character such as @, /, ?, # or % in the user name or password must be percent-encoded (@ as %40, / as %2F, ? as %3F, # as %23, % as %25)'
const unreadable = (what: string) =>
  new DatabaseUrlError(`DATABASE_URL cannot be read as postgres://user:password@host:port/database (${what}): ${ENCODE_HINT}.`)

export function parseDatabaseUrl(url: string): DatabaseTarget {
  const scheme = /^postgres(ql)?:\/\//i.exec(url)
  if (!scheme) throw new DatabaseUrlError('DATABASE_URL is not a postgres:// URL.')
  const rest = url.slice(scheme[0].length)
  // A fragment means nothing to a database URL: a `#` there is a password's, cut short.
  if (rest.includes('#')) throw unreadable('it holds a #')
  const authorityEnd = rest.search(/[/?]/)
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)
  const tail = authorityEnd < 0 ? '' : rest.slice(authorityEnd)
  const queryStart = tail.indexOf('?')
  const path = queryStart < 0 ? tail : tail.slice(0, queryStart)
  const query = queryStart < 0 ? '' : tail.slice(queryStart + 1)
  // "user:pa/ss@host" ends the authority at the `/`: the `@` then turns up in the path.
  if (path.includes('@')) throw unreadable('an @ after the host')
  const at = authority.indexOf('@')
  if (at !== authority.lastIndexOf('@')) throw unreadable('more than one @')
  const credentials = at < 0 ? undefined : authority.slice(0, at)
  const hostSpec = at < 0 ? authority : authority.slice(at + 1)

  const params = readQuery(query)
  const colon = credentials?.indexOf(':') ?? -1
  const user = params.get('user') ?? (credentials === undefined ? undefined : decode(colon < 0 ? credentials : credentials.slice(0, colon)))
  const password = params.get('password') ?? (credentials !== undefined && colon >= 0 ? decode(credentials.slice(colon + 1)) : undefined)
  const database = params.get('dbname') ?? (path.length > 1 ? decode(path.slice(1)) : undefined)
  const { hosts, ports } = readHosts(hostSpec, params.get('host'), params.get('port'))
  const sslMode = readSslMode(params)
  const schema = params.get('schema') || undefined
  const parameters: Record<string, string> = {}
  const driverOptions: Record<string, string | number | boolean> = {}
  for (const [name, value] of params) {
    if (DRIVER_PARAMETERS.has(name)) driverOptions[name] = driverOption(name, value)
    else if (!PRISMA_PARAMETERS.has(name) && !URL_PARTS.has(name)) parameters[name] = value
  }
  // postgres.js connects to a socket only as the one host it has.
  if (hosts.length > 1 && hosts.some(isSocket))
    throw new DatabaseUrlError('DATABASE_URL names several hosts, one of them a socket: name the socket alone.')
  const server = `${hosts.map((host, i) => `${host}:${ports[i]}`).join(',')}${database === undefined ? '' : `/${database}`}`
  return {
    hosts,
    ports,
    ...(database === undefined ? {} : { database }),
    ...(user ? { user } : {}),
    ...(password === undefined ? {} : { password }),
    sslMode,
    ...(schema === undefined ? {} : { schema }),
    parameters,
    driverOptions,
    server,
  }
}

/** A host that is a Unix socket's folder, as libpq tells them apart. */
export function isSocket(host: string): boolean {
  return host.startsWith('/')
}

/** As postgres.js reads its options from a query: "false" and "disable" are false, the timeouts numbers. */
function driverOption(name: string, value: string): string | number | boolean {
  if (value === 'false' || value === 'disable') return false
  return NUMERIC_DRIVER_PARAMETERS.has(name) ? Number(value) : value
}

/** Query parameters this module turns into the driver's options rather than session settings. */
const URL_PARTS = new Set(['host', 'port', 'user', 'password', 'dbname', 'sslmode', 'ssl', 'sslrootcert'])

function readQuery(query: string): Map<string, string> {
  const params = new Map<string, string>()
  if (query === '') return params
  for (const part of query.split('&')) {
    if (part === '') continue
    const equals = part.indexOf('=')
    // libpq refuses a parameter without `=`; here it is most often the rest of a password with a `?`.
    if (equals <= 0) throw unreadable('a query part without name=value')
    // `+` is a space, as postgres.js (URLSearchParams) has always read it.
    params.set(decode(part.slice(0, equals).replaceAll('+', ' ')), decode(part.slice(equals + 1).replaceAll('+', ' ')))
  }
  return params
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw unreadable('a % that is not a percent-escape')
  }
}

/**
 * `h1:5432,h2`, `[::1]:5433`, `%2Fvar%2Frun%2Fpostgresql`. As in libpq, `?host=` (`/run/postgresql`)
 * and `?port=` replace the authority's hosts and ports, each on its own.
 */
function readHosts(spec: string, hostParam: string | undefined, portParam: string | undefined): { hosts: string[]; ports: number[] } {
  const given = (spec === '' ? [''] : spec.split(',')).map(splitHostPort)
  const hosts = hostParam === undefined ? given.map(([host]) => host) : hostParam.split(',').map((host) => host.trim())
  const authorityPorts = given.map(([, port]) => port)
  const portList = portParam === undefined ? authorityPorts : portParam.split(',').map(readPort)
  const ports = hosts.map((_, i) => portList[i] ?? (portList.length === 1 ? portList[0] : undefined) ?? 5432)
  return { hosts: hosts.map((host) => host || 'localhost'), ports }
}

function splitHostPort(entry: string): [host: string, port: number | undefined] {
  const bracket = /^\[([^\]]*)\](?::(.*))?$/.exec(entry)
  const lastColon = entry.lastIndexOf(':')
  const [host, port] = bracket
    ? [bracket[1] ?? '', bracket[2]]
    : lastColon < 0
      ? [entry, undefined]
      : [entry.slice(0, lastColon), entry.slice(lastColon + 1)]
  return [decode(host), port === undefined || port === '' ? undefined : readPort(port)]
}

function readPort(text: string): number {
  // Never quoted: "user:secret@host" without the `@` reads the password as a port.
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65_535) throw unreadable('its port is not a number from 1 to 65535')
  return Number(text)
}

/**
 * libpq's `sslmode` (postgres.js's `ssl` is accepted too, as it always was). `sslrootcert=system`
 * asks for verification against the system's CAs, as in libpq 16 and postgres.js.
 */
function readSslMode(params: Map<string, string>): SslMode {
  const rootCert = params.get('sslrootcert')
  if (rootCert === 'system') return 'verify-full'
  // Ignoring it would check the certificate against other CAs than the operator meant.
  if (rootCert !== undefined) {
    throw new DatabaseUrlError(
      "DATABASE_URL's sslrootcert names a file, which gingr-sync does not read: use sslrootcert=system (the system's CAs) or sslmode=require (encrypted, the certificate unchecked).",
    )
  }
  const given = params.get('sslmode') ?? params.get('ssl')
  if (given === undefined || given === '') return 'disable'
  const mode = given === 'true' ? 'verify-full' : given === 'false' ? 'disable' : given
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new DatabaseUrlError(
      `DATABASE_URL's sslmode=${printableValue(given)} is not an sslmode: use disable, allow, prefer, require, verify-ca or verify-full.`,
    )
  }
  return mode as SslMode
}

/** A short value from the URL's query, safe to show (a password never sits in `sslmode`). */
function printableValue(value: string): string {
  const clean = value.replace(/[^\w.-]/g, '?')
  return clean.length > 20 ? `${clean.slice(0, 20)}…` : clean
}

/** Every password the URL may carry, however it was written, so that all of them can be scrubbed. */
export function passwordsOf(url: string): string[] {
  const found = new Set<string>()
  const rest = url.replace(/^[a-z][\w+.-]*:\/\//i, '')
  // Read with the last `@` ending the credentials, as an operator who did not percent-encode meant it.
  const at = rest.lastIndexOf('@')
  const colon = rest.indexOf(':')
  if (at > 0 && colon >= 0 && colon < at) {
    found.add(decodedOrRaw(rest.slice(colon + 1, at)))
  }
  try {
    const target = parseDatabaseUrl(url)
    if (target.password) found.add(target.password)
  } catch {
    // A URL refused by the parser is never printed, but its pieces may still be in a driver's message.
  }
  for (const match of url.matchAll(/[?&]password=([^&#]*)/gi)) found.add(decodedOrRaw(match[1] ?? ''))
  return [...found].filter((password) => password !== '')
}

/** secrets.ts scrubs a password's percent-encoded form too; text that is not percent-encoded is the password. */
function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
