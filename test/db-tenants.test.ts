/** Which tenants a run syncs, how they read, and the stamp of a successful sync. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import postgres from 'postgres'
import { findTenant, listSyncableTenants, listTenants, stampTenantSynced } from '../src/db/tenants.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { insertTenant, type TenantOverrides } from './fixtures/tailtown.ts'

// Bun resets the default timeout for every file; servers and the binary need more than 5 s here.
setDefaultTimeout(60_000)

let db: TestDatabase
const processZone = process.env.TZ

// Names sort differently from ids, so the order is visibly by name.
const tenants: (TenantOverrides & { id: string; synced: boolean })[] = [
  { id: 't-1', businessName: 'Zephyr Kennels', synced: true },
  { id: 't-2', businessName: 'Alpine Pet Resort', synced: true, timezone: 'Europe/Berlin' },
  { id: 't-3', businessName: 'Barking Lot', synced: false, gingr_sync_enabled: false },
  { id: 't-4', businessName: 'Canine Club', synced: false, isActive: false },
  { id: 't-5', businessName: 'Doggy Den', synced: false, status: 'PAUSED' },
  { id: 't-6', businessName: 'Easy Tails', synced: false, status: 'TRIAL' },
  { id: 't-7', businessName: 'Furry Friends', synced: false, status: 'CANCELLED' },
  { id: 't-8', businessName: 'Alpine Pet Resort', synced: true },
]

beforeAll(async () => {
  db = await migratedDatabase()
  for (const { synced: _synced, ...tenant } of tenants) await insertTenant(db.sql, tenant)
  // A stamp written in UTC wall time must not move when read by a process in another zone.
  process.env.TZ = 'America/Denver'
})
afterAll(async () => {
  process.env.TZ = processZone
  await db?.drop()
})

describe('listing', () => {
  test('syncable: enabled, active and ACTIVE only, by name (then id)', async () => {
    const ids = (await listSyncableTenants(db.sql)).map((tenant) => tenant.id)
    expect(ids).toEqual(['t-2', 't-8', 't-1'])
    expect(
      tenants
        .filter((tenant) => tenant.synced)
        .map((tenant) => tenant.id)
        .sort(),
    ).toEqual([...ids].sort())
  })

  test('every tenant says by the same rule whether the hourly run syncs it', async () => {
    const enabled = Object.fromEntries((await listTenants(db.sql)).map((tenant) => [tenant.id, tenant.enabled]))
    expect(enabled).toEqual(Object.fromEntries(tenants.map((tenant) => [tenant.id, tenant.synced])))
  })

  test('all tenants, for status', async () => {
    expect((await listTenants(db.sql)).map((tenant) => tenant.id)).toEqual(['t-2', 't-8', 't-3', 't-4', 't-5', 't-6', 't-7', 't-1'])
  })

  test('a tenant reads with its own names and types', async () => {
    expect(await findTenant(db.sql, 't-5')).toEqual({
      id: 't-5',
      businessName: 'Doggy Den',
      timezone: 'America/Denver',
      status: 'PAUSED',
      isActive: true,
      syncEnabled: true,
      enabled: false,
      lastSyncAt: null,
    })
    expect((await findTenant(db.sql, 't-2'))?.timezone).toBe('Europe/Berlin')
  })

  test('an unknown tenant is null', async () => {
    expect(await findTenant(db.sql, 'no-such-tenant')).toBeNull()
  })
})

describe('stampTenantSynced', () => {
  test('stores now as UTC wall time and sets "updatedAt"', async () => {
    const before = Date.now()
    await stampTenantSynced(db.sql, 't-1')
    const after = Date.now()
    // The stored wall time against the server's UTC clock, in SQL: no driver parsing involved.
    const [row] = await db.sql<{ stamp: Date; updated: Date; offBySeconds: number }[]>`
      SELECT last_gingr_sync_at AS stamp, "updatedAt" AS updated,
             abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - last_gingr_sync_at))::float8 AS "offBySeconds"
      FROM tenants WHERE id = 't-1'`
    // A session or process zone leaking in would move the stamp by hours, not seconds.
    const slack = 60_000
    expect(row!.stamp.getTime()).toBeGreaterThanOrEqual(before - slack)
    expect(row!.stamp.getTime()).toBeLessThanOrEqual(after + slack)
    expect(row!.updated.getTime()).toBe(row!.stamp.getTime())
    expect(row!.offBySeconds).toBeLessThan(slack / 1000)
    expect((await findTenant(db.sql, 't-1'))?.lastSyncAt?.getTime()).toBe(row!.stamp.getTime())
  })

  test("right even from a session left in the database's zone (America/Denver)", async () => {
    const denver = postgres(db.url, { max: 1, onnotice: () => {} })
    try {
      await stampTenantSynced(denver, 't-8')
    } finally {
      await denver.end()
    }
    const stamp = (await findTenant(db.sql, 't-8'))?.lastSyncAt
    expect(Math.abs(stamp!.getTime() - Date.now())).toBeLessThan(60_000)
  })

  test('inside a transaction that rolls back, nothing is stamped', async () => {
    const rollback = new Error('rollback')
    await expect(
      db.sql.begin(async (tx) => {
        await stampTenantSynced(tx, 't-2')
        expect((await findTenant(tx, 't-2'))?.lastSyncAt).toBeInstanceOf(Date)
        throw rollback
      }),
    ).rejects.toBe(rollback)
    expect((await findTenant(db.sql, 't-2'))?.lastSyncAt).toBeNull()
  })

  test('only the named tenant is stamped', async () => {
    await stampTenantSynced(db.sql, 't-3')
    const stamped = (await listTenants(db.sql)).filter((tenant) => tenant.lastSyncAt !== null).map((tenant) => tenant.id)
    expect(stamped.sort()).toEqual(['t-1', 't-3', 't-8'])
  })
})
