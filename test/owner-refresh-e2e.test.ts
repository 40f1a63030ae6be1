/**
 * The hourly run's refresh of owners changed in Gingr (issue 13 §2), through the compiled binary:
 * a changed owner's customer is rewritten and no other row is; a refresh that fails costs the
 * reservations nothing, is said (warning, exit 3, run history, status) and is asked again from
 * the same point by the next run. Each case has a tenant and a simulator of its own.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Sql } from '../src/db/connect.ts'
import { ownersRefreshedThrough } from '../src/db/tenant-state.ts'
import { addDays } from '../src/gingr/chunks.ts'
import { todayIn } from '../src/sync/window.ts'
import { type Bed, type Beds, gingrSync, startBeds, ZONE } from './_faults.ts'

setDefaultTimeout(60_000)

let beds: Beds
beforeAll(async () => {
  beds = await startBeds('refresh')
})
afterAll(async () => {
  await beds.stop()
})

async function customerVersions(sql: Sql, tenantId: string): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; v: string }[]>`
    SELECT "externalId" AS id, xmin::text AS v FROM customers WHERE "tenantId" = ${tenantId}`
  return new Map(rows.map((row) => [row.id, row.v]))
}

/** The days each `/new_modified_owners` request of the simulator asked for, in order. */
const refreshRequests = (bed: Bed) =>
  bed.sim.requests.filter((r) => r.endpoint === '/new_modified_owners').map((r) => `${r.params.start_date}..${r.params.end_date}`)

async function sync(bed: Bed) {
  const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'])
  const [tenant] = JSON.parse(result.stdout).tenants
  return { result, tenant }
}

describe.concurrent('the hourly owner refresh', () => {
  test('an owner changed in Gingr: its customer is updated by the next run, and no other customer is written', async () => {
    const bed = await beds.bed()
    const today = todayIn(ZONE)
    const before = await customerVersions(bed.db.sql, bed.tenant)
    const owner = [...before.keys()][0]!
    bed.sim.account.changeOwner(owner, { city: 'Boulder', zip: '80302' })
    bed.sim.requests.length = 0

    const { result, tenant } = await sync(bed)
    expect(result.code).toBe(0)
    // The bed's first sync refreshed through today: a day of overlap.
    expect(refreshRequests(bed)).toEqual([`${addDays(today, -1)}..${today}`])
    expect(tenant.ownerRefresh).toMatchObject({ range: { from: addDays(today, -1), to: today }, updated: 1 })
    expect(tenant.ownerRefresh.error).toBeUndefined()
    expect(tenant.ownerRefresh.changed).toBeGreaterThanOrEqual(1)
    expect(result.stderr).toMatch(/Owners changed in Gingr from \S+ to \S+: \d+ · customers updated: 1$/m)

    const after = await customerVersions(bed.db.sql, bed.tenant)
    expect([...after.keys()].filter((id) => after.get(id) !== before.get(id))).toEqual([owner])
    const [row] = await bed.db.sql<{ city: string; zipCode: string }[]>`
      SELECT city, "zipCode" FROM customers WHERE "tenantId" = ${bed.tenant} AND "externalId" = ${owner}`
    expect(row).toEqual({ city: 'Boulder', zipCode: '80302' })
    expect(await ownersRefreshedThrough(bed.db.sql, bed.tenant)).toBe(today)

    // Unchanged since: the rerun writes no customer.
    const rerun = await sync(bed)
    expect(rerun.tenant.ownerRefresh.updated).toBe(0)
    expect(await customerVersions(bed.db.sql, bed.tenant)).toEqual(after)
  })

  test('a refresh that fails: the reservations sync, exit 3, the history and status say so, the next run asks the same days again', async () => {
    const bed = await beds.bed()
    const today = todayIn(ZONE)
    const behind = addDays(today, -3)
    await bed.db.sql`UPDATE gingr_sync_tenants SET owners_refreshed_through = ${behind} WHERE tenant_id = ${bed.tenant}`
    const booked = bed.sim.account.addReservation()
    bed.sim.faults.add({ endpoint: '/new_modified_owners', fault: { kind: 'status', status: 503 } })

    const failed = await sync(bed)
    expect(failed.result.code).toBe(3)
    expect(failed.tenant.status).toBe('synced')
    expect(failed.tenant.reservations.created).toBe(1)
    expect(failed.tenant.ownerRefresh.error).toMatch(/^The refresh of changed owners \(\S+ to \S+\) failed: .*HTTP 503/)
    expect(failed.result.stderr).toMatch(
      / WARN .*The refresh of changed owners .* failed: .* The reservations above are synced; the next run asks for these days again\.$/m,
    )
    const [stored] = await bed.db.sql<{ id: string }[]>`
      SELECT id FROM reservations WHERE "tenantId" = ${bed.tenant} AND "externalId" = ${booked.reservation_id}`
    expect(stored).toBeDefined()
    expect(await ownersRefreshedThrough(bed.db.sql, bed.tenant)).toBe(behind)
    const [run] = await bed.db.sql<{ status: string; refreshError: string | null }[]>`
      SELECT status, owner_refresh_error AS "refreshError" FROM gingr_sync_runs
      WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
    expect(run?.status).toBe('synced')
    expect(run?.refreshError).toMatch(/HTTP 503/)
    const status = await gingrSync(bed, ['status'])
    expect(status.stdout).toMatch(new RegExp(`owners refreshed through ${behind} · last run synced .*; owner refresh FAILED: The refresh`))

    bed.sim.faults.clear()
    bed.sim.requests.length = 0
    const again = await sync(bed)
    expect(again.result.code).toBe(0)
    expect(refreshRequests(bed)).toEqual([`${addDays(behind, -1)}..${today}`])
    expect(await ownersRefreshedThrough(bed.db.sql, bed.tenant)).toBe(today)
  })

  test.each([
    { invalid: 1, code: 3, moves: true, says: /WARN .*Skipped invalid owner/ },
    { invalid: 500, code: 3, moves: false, says: /WARN .*owners Gingr listed are invalid \(more than 50%\)/ },
  ])('$invalid invalid owners in the refresh: exit $code; the point moves: $moves', async ({ invalid, code, moves, says }) => {
    const bed = await beds.bed()
    const today = todayIn(ZONE)
    const behind = addDays(today, -2)
    await bed.db.sql`UPDATE gingr_sync_tenants SET owners_refreshed_through = ${behind} WHERE tenant_id = ${bed.tenant}`
    bed.sim.account.changeOwner([...bed.sim.account.owners.keys()][2]!, { city: 'Lakewood' })
    bed.sim.faults.add({ endpoint: '/new_modified_owners', fault: { kind: 'invalid-records', count: invalid } })
    const { result, tenant } = await sync(bed)
    expect(result.code).toBe(code)
    expect(tenant.status).toBe('synced')
    expect(result.stderr).toMatch(says)
    expect(await ownersRefreshedThrough(bed.db.sql, bed.tenant)).toBe(moves ? today : behind)
    expect(tenant.ownerRefresh.updated).toBe(moves ? 1 : 0)
  })

  test('a dry run reports the refresh with its counts and moves nothing', async () => {
    const bed = await beds.bed()
    const before = await customerVersions(bed.db.sql, bed.tenant)
    const point = await ownersRefreshedThrough(bed.db.sql, bed.tenant)
    bed.sim.account.changeOwner([...before.keys()][1]!, { last_name: 'Okonkwo-Baptiste' })
    const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json', '--dry-run'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout).tenants[0].ownerRefresh.updated).toBe(1)
    expect(result.stderr).toMatch(/customers to update: 1$/m)
    expect(await customerVersions(bed.db.sql, bed.tenant)).toEqual(before)
    expect(await ownersRefreshedThrough(bed.db.sql, bed.tenant)).toBe(point)
  })
})
