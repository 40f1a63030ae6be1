/**
 * What an operator scrapes and is pinged with (issue 14 §3): `--metrics-file` in Prometheus's text
 * format, replaced whole after each run, and each tenant's own `pingUrl` from --config.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeMetricsFile } from '../src/metrics-file.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { renderMetrics } from '../src/sync/metrics.ts'
import { binary, runBinary } from './_binary.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { testDir } from './_tmp.ts'
import { insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(30_000)

const ZONE = 'America/Denver'
const dir = testDir('metrics')
let sim: Simulator
let db: TestDatabase
let env: Record<string, string>
let monitor: ReturnType<typeof Bun.serve>
const pings: string[] = []
const tenants: Record<'good' | 'broken', string> = { good: '', broken: '' }

beforeAll(async () => {
  await binary()
  sim = await startSimulator({ seed: 17, reservations: 40, owners: 15, animals: 20, timeZone: ZONE })
  db = await migratedDatabase()
  env = { DATABASE_URL: db.url, GINGR_SUBDOMAIN: 'metrics', GINGR_API_KEY: sim.apiKey, GINGR_BASE_URL: sim.baseUrl }
  monitor = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      pings.push(new URL(request.url).pathname)
      return new Response('OK')
    },
  })
  tenants.good = await insertTenant(db.sql, { id: 'good "one"', businessName: 'Good', timezone: ZONE })
  tenants.broken = await insertTenant(db.sql, { id: 'broken', businessName: 'Broken', timezone: 'Nowhere/Land' })
})
afterAll(async () => {
  monitor?.stop(true)
  await sim?.stop()
  await db?.drop()
})

/** Every sample of the file as `name{labels}` → value; the comments checked on the way. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# ')) {
      expect(line).toMatch(/^# (HELP gingr_sync_[a-z_]+ \S.*|TYPE gingr_sync_[a-z_]+ gauge)$/)
      continue
    }
    const match = /^(gingr_sync_[a-z_]+(?:\{[^}]*\})?) (-?\d+(?:\.\d+)?)$/.exec(line)
    expect({ line, valid: match !== null }).toEqual({ line, valid: true })
    found.set(match![1]!, Number(match![2]))
  }
  return found
}

describe('--metrics-file', () => {
  test('after a run: each tenant and the run, by Prometheus conventions, replaced whole', async () => {
    const path = join(dir.path, 'gingr-sync.prom')
    const first = await runBinary(['--metrics-file', path], env)
    expect(first.code).toBe(1)
    const inode = statSync(path).ino
    const metrics = samples(readFileSync(path, 'utf8'))
    // The label value escaped as the format asks.
    const good = 'tenant="good \\"one\\""'
    expect(metrics.get(`gingr_sync_last_success_timestamp_seconds{${good}}`)).toBeGreaterThan(Date.now() / 1000 - 60)
    // Never synced: 0, so that the README's `time() - … > 9000` fires for it.
    expect(metrics.get('gingr_sync_last_success_timestamp_seconds{tenant="broken"}')).toBe(0)
    expect(metrics.get(`gingr_sync_tenant_last_run_status{${good},status="synced"}`)).toBe(1)
    expect(metrics.get(`gingr_sync_tenant_last_run_status{${good},status="failed"}`)).toBe(0)
    expect(metrics.get('gingr_sync_tenant_last_run_status{tenant="broken",status="failed"}')).toBe(1)
    expect(metrics.get(`gingr_sync_tenant_last_run_reservations{${good},action="created"}`)).toBeGreaterThan(0)
    expect(metrics.get(`gingr_sync_tenant_last_run_reservations{${good},action="cancelled"}`)).toBe(0)
    expect(metrics.get(`gingr_sync_tenant_last_run_invalid_records{${good}}`)).toBe(0)
    expect(metrics.get(`gingr_sync_tenant_last_run_duration_seconds{${good}}`)).toBeGreaterThan(0)
    expect(metrics.get('gingr_sync_run_tenants{outcome="synced"}')).toBe(1)
    expect(metrics.get('gingr_sync_run_tenants{outcome="failed"}')).toBe(1)
    expect(metrics.get('gingr_sync_run_exit_code')).toBe(1)
    // Within --min-interval: the good tenant skipped, its last success still there.
    const second = await runBinary(['--metrics-file', path], env)
    expect(second.code).toBe(0)
    const again = samples(readFileSync(path, 'utf8'))
    expect(again.get('gingr_sync_run_tenants{outcome="skipped"}')).toBe(2)
    expect(again.get(`gingr_sync_last_success_timestamp_seconds{${good}}`)).toBe(
      metrics.get(`gingr_sync_last_success_timestamp_seconds{${good}}`)!,
    )
    // A new file renamed over the old one, no temporary left beside it.
    expect(statSync(path).ino).not.toBe(inode)
    expect(readdirSync(dir.path).filter((name) => name.includes('.tmp'))).toEqual([])
  })

  /** A path made in its own folder, and what is there before the run: it must be there after. */
  const made = (name: string, make: (path: string) => void) => () => {
    const path = join(mkdtempSync(join(dir.path, 'refused-')), name)
    make(path)
    return path
  }
  const asIs = (path: string) => {
    try {
      const stat = lstatSync(path)
      return { type: stat.mode & 0o170000, rdev: stat.rdev, ino: stat.ino, link: stat.isSymbolicLink() ? readlinkSync(path) : null }
    } catch {
      return null
    }
  }
  const spawned = (command: string[]) => expect(Bun.spawnSync(command).exitCode).toBe(0)
  test.concurrent.each([
    ['a folder that does not exist', () => join(dir.path, 'nowhere', 'x.prom'), 'does not exist'],
    ['a folder instead of a file', () => dir.path, 'is a folder'],
    ['an empty path', () => '', 'needs the path of a file'],
    ['a name not ending in .prom', made('gingr-sync.txt', () => {}), 'does not end in .prom'],
    ['a FIFO', made('fifo.prom', (path) => spawned(['mkfifo', path])), 'is not a regular file'],
    // A node of /dev/null's own numbers: the device itself is never put at stake.
    ['a device (as root)', made('null.prom', (path) => spawned(['mknod', path, 'c', '1', '3'])), 'is not a regular file'],
    [
      'a symbolic link',
      made('link.prom', (path) => {
        writeFileSync(`${path}.target`, 'kept\n')
        symlinkSync(`${path}.target`, path)
      }),
      'is not a regular file',
    ],
  ])('%s: exit 2 before anything is done, the path left as it is', async (name, pathOf, says) => {
    if (name.includes('root') && process.getuid?.() !== 0) return
    const path = pathOf()
    const before = [asIs(path), await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`]
    const result = await runBinary(['--metrics-file', path, '--min-interval', '0'], env)
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain(says)
    expect([asIs(path), await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM gingr_sync_runs`]).toEqual(before)
  })

  test('--dry-run writes no metrics: the last real run stays what the collector reads', async () => {
    const path = dir.write('dry.prom', 'gingr_sync_run_exit_code 0\n', 0o644)
    const result = await runBinary(['--tenant', tenants.good, '--dry-run', '--metrics-file', path], env)
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`Dry run: the metrics file ${path} is left as it is.`)
    expect(readFileSync(path, 'utf8')).toBe('gingr_sync_run_exit_code 0\n')
  })

  test('the temporary file is made new under a name no one can guess, mode 0644, never through a link', () => {
    const folder = mkdtempSync(join(dir.path, 'tmp-'))
    const path = join(folder, 'gingr-sync.prom')
    const victim = dir.write('victim', 'kept\n')
    // The name the writer once used: another user of the folder could plant it.
    symlinkSync(victim, join(folder, `.gingr-sync.prom.${process.pid}.tmp`))
    const umask = process.umask(0o077)
    try {
      writeMetricsFile(path, 'gingr_sync_run_exit_code 0\n')
    } finally {
      process.umask(umask)
    }
    expect(readFileSync(victim, 'utf8')).toBe('kept\n')
    expect(lstatSync(path).isFile()).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o644)
    expect(readFileSync(path, 'utf8')).toBe('gingr_sync_run_exit_code 0\n')
    expect(readdirSync(folder).sort()).toEqual([`.gingr-sync.prom.${process.pid}.tmp`, 'gingr-sync.prom'])
  })

  test('a file that cannot be written: a WARN line, the outcome of the run unchanged', async () => {
    // /proc takes no new file, even from root.
    const result = await runBinary(['--tenant', tenants.good, '--metrics-file', '/proc/gingr-sync.prom'], env)
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(
      /WARN .*The metrics file \/proc\/gingr-sync.prom could not be written \(\w+\)\. The sync is not affected\./,
    )
  })

  test('the text alone: no tenant, no sample of one; values in base units', () => {
    const text = renderMetrics({
      lastSuccess: new Map([
        ['a', new Date(1_700_000_000_500)],
        ['never', null],
      ]),
      results: [],
      outcomes: { synced: 0, failed: 0, locked: 0, skipped: 1 },
      durationMs: 1234,
      finishedAt: new Date(1_700_000_001_000),
      exitCode: 0,
    })
    const metrics = samples(text)
    expect(metrics.get('gingr_sync_last_success_timestamp_seconds{tenant="a"}')).toBe(1_700_000_000.5)
    expect(metrics.get('gingr_sync_last_success_timestamp_seconds{tenant="never"}')).toBe(0)
    expect(metrics.get('gingr_sync_run_duration_seconds')).toBe(1.234)
    expect([...metrics.keys()].filter((key) => key.includes('tenant_last_run'))).toEqual([])
  })
})

describe("a tenant's own pingUrl", () => {
  test('start, then success or fail, for each tenant that has one; none for a dry run', async () => {
    const base = `http://127.0.0.1:${monitor.port}`
    const config = dir.write(
      'pings.json',
      JSON.stringify({ tenants: { [tenants.good]: { pingUrl: `${base}/good` }, [tenants.broken]: { pingUrl: `${base}/broken/` } } }),
    )
    pings.length = 0
    expect((await runBinary(['--config', config, '--dry-run'], env)).code).toBe(1)
    expect(pings).toEqual([])
    expect((await runBinary(['--config', config, '--min-interval', '0'], env)).code).toBe(1)
    expect(pings.sort()).toEqual(['/broken/fail', '/broken/start', '/good', '/good/start'])
    // A bad pingUrl is its tenant's alone: that one fails, unpinged; the others run as ever.
    const bad = dir.write(
      'bad-ping.json',
      JSON.stringify({ tenants: { [tenants.good]: { pingUrl: 'ftp://x' }, [tenants.broken]: { pingUrl: `${base}/broken/` } } }),
    )
    pings.length = 0
    const refused = await runBinary(['--config', bad, '--min-interval', '0'], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`(${tenants.good}): its pingUrl in the config file is not an http:// or https:// URL.`)
    expect(pings.sort()).toEqual(['/broken/fail', '/broken/start'])
  })
})
