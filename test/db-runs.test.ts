/** The run history: what a run records, and the latest and latest successful run per tenant. */

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from 'bun:test'
import { hostname } from 'node:os'
import { lastRuns, type RunRecord, recordRun } from '../src/db/runs.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

let db: TestDatabase
afterAll(() => db?.drop())

function run(tenantId: string, startedAt: string, overrides: Partial<RunRecord> = {}): RunRecord {
  const started = new Date(startedAt)
  return {
    tenantId,
    startedAt: started,
    finishedAt: new Date(started.getTime() + 1234),
    dryRun: false,
    status: 'synced',
    windowFrom: '2024-03-03',
    windowTo: '2024-04-09',
    fetched: 40,
    created: 3,
    updated: 2,
    unchanged: 34,
    skipped: 1,
    customersCreated: 1,
    petsCreated: 2,
    servicesCreated: 0,
    durationMs: 1234,
    statements: 9,
    vanished: 2,
    moved: 1,
    cancelled: 1,
    withheld: 0,
    ownersChanged: 0,
    ownersUpdated: 0,
    ownerRefreshError: null,
    error: null,
    host: 'host-a',
    ...overrides,
  }
}

const synced = run('alpine', '2024-03-10T08:00:00.000Z')
const failed = run('alpine', '2024-03-10T09:00:00.000Z', { status: 'failed', error: 'Gingr answered 503.', created: 0 })
const dryRun = run('alpine', '2024-03-10T10:00:00.000Z', { dryRun: true })
const onlyFailure = run('barking', '2024-03-10T09:30:00.000Z', { status: 'failed', windowFrom: null, windowTo: null, error: 'boom' })
const olderSynced = run('zephyr', '2024-03-09T08:00:00.000Z')
const newerSynced = run('zephyr', '2024-03-10T08:00:00.000Z', { created: 7, host: 'host-b' })

beforeAll(async () => {
  db = await migratedDatabase()
  for (const record of [olderSynced, synced, failed, dryRun, onlyFailure, newerSynced]) await recordRun(db.sql, record)
})

test('a run recorded without a host is recorded as run on this one', async () => {
  const { host: _host, ...unnamed } = run('unnamed', '2024-03-10T08:00:00.000Z')
  await recordRun(db.sql, unnamed)
  const [row] = await db.sql<{ host: string }[]>`SELECT host FROM gingr_sync_runs WHERE tenant_id = 'unnamed'`
  expect(row?.host).toBe(hostname())
  await db.sql`DELETE FROM gingr_sync_runs WHERE tenant_id = 'unnamed'`
})

test('every field of a run comes back as it was recorded', async () => {
  const zephyr = (await lastRuns(db.sql)).find((runs) => runs.tenantId === 'zephyr')
  expect(zephyr?.latest).toEqual(newerSynced)
})

test.each([
  { tenant: 'alpine', why: 'a dry run is the latest run, but not a real sync', latest: dryRun, latestSynced: synced },
  { tenant: 'barking', why: 'only failures: never synced', latest: onlyFailure, latestSynced: null },
  { tenant: 'zephyr', why: 'the newest of two syncs', latest: newerSynced, latestSynced: newerSynced },
])('$tenant: $why', async ({ tenant, latest, latestSynced }) => {
  const runs = await lastRuns(db.sql)
  expect(runs.map((entry) => entry.tenantId)).toEqual(['alpine', 'barking', 'zephyr'])
  expect(runs.find((entry) => entry.tenantId === tenant)).toEqual({ tenantId: tenant, latest, latestSynced })
})

test('a status other than synced or failed is refused by the table', async () => {
  const bogus = { ...synced, status: 'partial' } as unknown as RunRecord
  await expect(recordRun(db.sql, bogus)).rejects.toThrow(/check constraint/)
})
