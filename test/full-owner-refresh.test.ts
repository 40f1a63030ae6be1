/**
 * The pieces of the hourly refresh of changed owners (src/sync/owner-refresh.ts): the range of
 * days, Gingr's `/new_modified_owners` in chunks, a failure that is reported rather than thrown,
 * and the write in a transaction, proven by row versions against a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { connect, type Sql } from '../src/db/connect.ts'
import { ownersRefreshedThrough } from '../src/db/tenant-state.ts'
import { inTransaction } from '../src/db/transaction.ts'
import { GingrClient } from '../src/gingr/client.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'
import { syncFullTenant } from '../src/sync/full.ts'
import { fetchChangedOwners, refreshRange, writeChangedOwners } from '../src/sync/owner-refresh.ts'
import { migratedDatabase, type TestDatabase } from './_db.ts'
import { insertCustomer, insertTenant } from './fixtures/tailtown.ts'

setDefaultTimeout(60_000)

const ZONE = 'America/Denver'
const TODAY = '2025-11-17'
let db: TestDatabase
let sim: Simulator

beforeAll(async () => {
  db = await migratedDatabase()
  sim = await startSimulator({
    seed: 9,
    today: TODAY,
    owners: 300,
    animals: 300,
    reservations: 0,
    timeZone: ZONE,
    apiKey: 'refresh-Key-9Qx27',
  })
})
afterAll(async () => {
  await sim?.stop()
  await db?.drop()
})

const client = () =>
  new GingrClient({
    subdomain: 'refresh',
    apiKey: sim.apiKey,
    baseUrl: sim.baseUrl,
    timeZone: ZONE,
    paceMs: 0,
    backoffBaseMs: 5,
    backoffMaxMs: 10,
  })

describe('the range', () => {
  const cases: Array<[string, string | null, { from: string; to: string }]> = [
    ['never refreshed: the last week', null, { from: '2025-11-10', to: TODAY }],
    ['refreshed yesterday: from the day before, a day of overlap', '2025-11-16', { from: '2025-11-15', to: TODAY }],
    ['refreshed today already', TODAY, { from: '2025-11-16', to: TODAY }],
    ['a point in the future (a clock that was wrong) is today', '2025-12-01', { from: '2025-11-16', to: TODAY }],
    ['six weeks behind: the whole gap, in chunks', '2025-10-01', { from: '2025-09-30', to: TODAY }],
  ]
  test.each(cases)('%s', (_name, last, range) => {
    expect(refreshRange(last, TODAY)).toEqual(range)
  })
})

describe('/new_modified_owners', () => {
  test('a range over 30 days is asked in chunks and merged; the owners are those changed in it', async () => {
    sim.requests.length = 0
    const range = { from: '2025-10-01', to: TODAY }
    const changed = await fetchChangedOwners(client(), range)
    if (!changed.ok) throw new Error(changed.error)
    expect(sim.requests.map((r) => `${r.endpoint} ${r.params.start_date}..${r.params.end_date}`)).toEqual([
      '/new_modified_owners 2025-10-01..2025-10-30',
      '/new_modified_owners 2025-10-31..2025-11-17',
    ])
    const low = Date.parse('2025-10-01T06:00:00Z')
    const high = Date.parse('2025-11-18T07:00:00Z')
    const expected = [...sim.account.ownerModifiedAt].filter(([, at]) => at >= low && at < high).map(([id]) => id)
    expect(changed.customers.map((c) => c.externalId).sort()).toEqual(expected.sort())
    expect(changed.customers.length).toBeGreaterThan(10)
  })

  test('a call that fails after its retries is a sentence (no key), never a throw', async () => {
    sim.faults.add({ endpoint: '/new_modified_owners', fault: { kind: 'status', status: 503 } })
    try {
      const changed = await fetchChangedOwners(client(), { from: '2025-11-15', to: TODAY })
      expect(changed).toEqual({
        ok: false,
        range: { from: '2025-11-15', to: TODAY },
        error:
          'The refresh of changed owners (2025-11-15 to 2025-11-17) failed: Gingr /new_modified_owners 2025-11-15..2025-11-17 failed after 4 attempts: HTTP 503 (Service Unavailable: "HTTP 503").',
      })
    } finally {
      sim.faults.clear()
    }
  })
})

describe('the write', () => {
  let sql: Sql
  let count = 0
  beforeAll(() => {
    sql = connect(db.url, { onQuery: () => count++ })
  })
  afterAll(() => sql.end({ timeout: 5 }))

  test('only the customers of changed owners that differ are written, with the full sync rules; no customer is made', async () => {
    const tenant = await insertTenant(db.sql, { timezone: ZONE })
    const synced = await syncFullTenant({
      sql,
      tenant: { id: tenant, businessName: 'Refresh Kennels' },
      gingr: { subdomain: 'refresh', apiKey: sim.apiKey, baseUrl: sim.baseUrl, timeZone: ZONE, paceMs: 0 },
      dryRun: false,
    })
    expect(synced.status).toBe('synced')
    const [moved, renamed] = [...sim.account.owners.keys()]
    // An owner with an address of its own (not shared, not missing: those hold placeholders, never reported).
    const emails = [...sim.account.owners.values()].map((o) => o.email?.toLowerCase())
    const clash = [...sim.account.owners.values()].find(
      (o, index) => index > 3 && o.email?.includes('@') && emails.filter((e) => e === o.email?.toLowerCase()).length === 1,
    )!.id
    sim.account.changeOwner(moved!, { address_1: '1 Pearl St', city: 'Boulder', zip: '80302' }, new Date('2025-11-17T16:00:00Z'))
    sim.account.changeOwner(renamed!, { last_name: 'Nakamura-Reyes' }, new Date('2025-11-17T16:00:00Z'))
    await insertCustomer(db.sql, { tenantId: tenant, email: 'taken@example.com' })
    sim.account.changeOwner(clash!, { email: 'taken@example.com' }, new Date('2025-11-17T16:00:00Z'))
    const newcomer = sim.account.addOwner({ first_name: 'Only', last_name: 'In Gingr' })
    sim.account.ownerModifiedAt.set(newcomer.id, Date.parse('2025-11-17T16:00:00Z'))

    const before = await sql<
      { id: string; v: string }[]
    >`SELECT "externalId" AS id, xmin::text AS v FROM customers WHERE "tenantId" = ${tenant}`
    const changed = await fetchChangedOwners(client(), refreshRange('2025-11-17', TODAY))
    if (!changed.ok) throw new Error(changed.error)
    expect(changed.customers.map((c) => c.externalId)).toEqual(expect.arrayContaining([moved!, renamed!, clash!, newcomer.id]))
    const at = count
    const result = await inTransaction(sql, (tx) => writeChangedOwners(tx, tenant, changed))
    // Staged and updated (3 + 2), then the refresh point moved (1).
    expect(count - at).toBe(3 + 2 + 1)
    expect(result).toEqual({
      range: { from: '2025-11-16', to: TODAY },
      changed: changed.customers.length,
      updated: 2,
      emailConflicts: [clash!],
      invalid: [],
    })
    expect(await ownersRefreshedThrough(sql, tenant)).toBe(TODAY)

    const after = await sql<{ id: string; v: string; address: string; lastName: string }[]>`
      SELECT "externalId" AS id, xmin::text AS v, address, "lastName" FROM customers WHERE "tenantId" = ${tenant}`
    const versions = new Map(before.map((row) => [row.id, row.v]))
    expect(
      after
        .filter((row) => versions.get(row.id) !== row.v)
        .map((row) => row.id)
        .sort(),
    ).toEqual([moved!, renamed!].sort())
    expect(after.find((row) => row.id === moved)?.address).toBe(
      `1 Pearl St${sim.account.owners.get(moved!)!.address_2?.trim() ? `, ${sim.account.owners.get(moved!)!.address_2}` : ''}`,
    )
    expect(after.find((row) => row.id === renamed)?.lastName).toBe('Nakamura-Reyes')
    expect(after.some((row) => row.id === newcomer.id)).toBe(false)
  })
})
