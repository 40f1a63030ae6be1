/**
 * Reservations deleted or moved in Gingr, through the compiled binary (RELIABILITY.md): a stay a
 * complete fetch no longer returns is looked up in Gingr; moved ones get their new dates, deleted
 * ones are cancelled (kept, never deleted), and every other row keeps its version. An empty or
 * partial answer, or a mass deletion, cancels nothing. Each case has a tenant and a simulator of
 * its own, so the cases run side by side.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { Sql } from '../src/db/connect.ts'
import type { SimulatorOptions, WireReservation } from '../src/simulator/index.ts'
import { type Bed, type Beds, defaultWindow, errorLines, gingrSync, startBeds } from './_faults.ts'
import { testDir } from './_tmp.ts'

setDefaultTimeout(60_000)

const dir = testDir('vanished')

let beds: Beds
beforeAll(async () => {
  beds = await startBeds('vanished')
})
afterAll(async () => {
  await beds.stop()
})

interface Row {
  externalId: string
  status: string
  startDate: string
  endDate: string
  cancelDate: string | null
  xmin: string
}

async function rows(sql: Sql, tenantId: string): Promise<Map<string, Row>> {
  const found = await sql<Row[]>`
    SELECT "externalId", status::text AS status, xmin::text AS xmin,
      to_char("startDate", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "startDate",
      to_char("endDate", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "endDate",
      to_char("cancelDate", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "cancelDate"
    FROM reservations WHERE "tenantId" = ${tenantId}`
  return new Map(found.map((row) => [row.externalId, row]))
}

/** Stays of the window not cancelled in Gingr, one per animal (so that each is its own look-up). */
function activeStays(bed: Bed, count: number): WireReservation[] {
  const { from, to } = defaultWindow()
  const animals = new Set<string>()
  const picked = bed.sim.account.matching(from, to).filter((stay) => {
    if (stay.cancelled_date !== null || animals.has(stay.animal.id)) return false
    animals.add(stay.animal.id)
    return true
  })
  if (picked.length < count) throw new Error(`only ${picked.length} stays to pick from`)
  return picked.slice(0, count)
}

const DAY = 86_400_000
const farAhead = (days: number) => new Date(Date.now() + days * DAY)

/** A sync with --json: the exit code and the tenant's entry. */
async function sync(bed: Bed, args: string[] = []) {
  const result = await gingrSync(bed, ['--tenant', bed.tenant, '--json', ...args])
  const [tenant] = JSON.parse(result.stdout).tenants
  return { result, tenant, vanished: tenant.vanished }
}

/** The ids of `changed` rows that have a new version: every other row must keep its own. */
function rewritten(before: Map<string, Row>, after: Map<string, Row>): string[] {
  return [...before.keys()].filter((id) => after.get(id)?.xmin !== before.get(id)?.xmin).sort()
}

const bedOf = (options: SimulatorOptions = {}) => beds.bed({ reservations: 90, owners: 50, animals: 80, ...options })

describe.concurrent('vanished reservations', () => {
  test('5 deleted and 3 moved out of the window: 5 cancelled, 3 with their new dates, no other row written', async () => {
    const bed = await bedOf()
    const [d1, d2, d3, d4, d5, m1, m2, m3] = activeStays(bed, 8)
    const deleted = [d1!, d2!, d3!, d4!, d5!].map((stay) => stay.reservation_id).sort()
    const moved = [m1!, m2!, m3!].map((stay) => stay.reservation_id).sort()
    for (const id of deleted) bed.sim.account.deleteReservation(id)
    for (const [index, id] of moved.entries()) bed.sim.account.moveReservation(id, farAhead(60 + index), farAhead(63 + index))
    const before = await rows(bed.db.sql, bed.tenant)

    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(0)
    expect(vanished).toMatchObject({ vanished: 8, moved, cancelled: deleted, withheld: [], reported: [], deferred: [] })
    expect(result.stderr).toContain(
      "Gone from Gingr's answer: 8 (3 moved, 5 cancelled, 0 withheld, 0 reported, 0 deferred, 0 found as stored)",
    )
    expect(result.stderr).toContain(`Cancelled (deleted in Gingr): ${deleted.join(', ')}`)

    const after = await rows(bed.db.sql, bed.tenant)
    expect(rewritten(before, after)).toEqual([...deleted, ...moved].sort())
    for (const id of deleted) expect(after.get(id)).toMatchObject({ status: 'CANCELLED', cancelDate: expect.any(String) })
    for (const id of moved) {
      const truth = bed.sim.account.reservations.get(id)!
      expect(after.get(id)?.startDate).toBe(new Date(truth.start_date).toISOString())
      expect(after.get(id)?.endDate).toBe(new Date(truth.end_date).toISOString())
    }
    const [run] = await bed.db.sql<{ vanished: number; moved: number; cancelled: number; withheld: number }[]>`
      SELECT vanished, moved, cancelled, withheld FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
    expect(run).toEqual({ vanished: 8, moved: 3, cancelled: 5, withheld: 0 })
    expect((await gingrSync(bed, ['status'])).stdout).toContain('; 8 gone from Gingr: 3 moved, 5 cancelled, 0 withheld')

    // The next run finds nothing more to do: the cancelled ones are cancelled, the moved ones seen.
    const again = await sync(bed)
    expect(again.vanished.vanished).toBe(0)
    expect(rewritten(after, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  test('a reservation that comes back in Gingr gets its real status again', async () => {
    const bed = await bedOf()
    const [stay] = activeStays(bed, 1)
    bed.sim.account.deleteReservation(stay!.reservation_id)
    expect((await sync(bed)).vanished.cancelled).toEqual([stay!.reservation_id])
    bed.sim.account.reservations.set(stay!.reservation_id, stay!)
    const { result, tenant } = await sync(bed)
    expect(result.code).toBe(0)
    expect(tenant.reservations.updated).toBe(1)
    expect((await rows(bed.db.sql, bed.tenant)).get(stay!.reservation_id)?.status).not.toBe('CANCELLED')
  })

  test('an empty answer for a window that holds stays cancels nothing: exit 3, said so', async () => {
    const bed = await bedOf()
    const before = await rows(bed.db.sql, bed.tenant)
    bed.sim.faults.add({
      endpoint: '/reservations',
      fault: { kind: 'status', status: 200, body: { success: true, error: false, data: [] } },
    })
    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(3)
    expect(vanished.cancelled).toEqual([])
    expect(vanished.withheld.length).toBe(vanished.vanished)
    expect(vanished.withheld.length).toBeGreaterThan(10)
    expect(result.stderr).toMatch(
      /WARN {2}⚠️ {2}Gingr returned no reservation at all for a window that holds \d+: nothing is cancelled on an empty answer\./,
    )
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
    // No look-up was made for it.
    expect(bed.sim.requests.filter((request) => request.endpoint.startsWith('/reservations_by'))).toEqual([])
  })

  test('a half answer (the second chunk fails) cancels nothing: the run fails, nothing written', async () => {
    const bed = await bedOf()
    const before = await rows(bed.db.sql, bed.tenant)
    const { from } = defaultWindow()
    bed.sim.faults.add({
      endpoint: '/reservations',
      when: (request) => request.params.start_date !== from,
      fault: { kind: 'status', status: 502 },
    })
    const result = await gingrSync(bed, ['--tenant', bed.tenant])
    expect(result.code).toBe(1)
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  test('60% of the window deleted: none cancelled, the guard says how many and what raises the limit, exit 3', async () => {
    const bed = await bedOf()
    const before = await rows(bed.db.sql, bed.tenant)
    const { from, to } = defaultWindow()
    const active = bed.sim.account.matching(from, to).filter((stay) => stay.cancelled_date === null)
    const gone = active.slice(0, Math.ceil(active.length * 0.6)).map((stay) => stay.reservation_id)
    for (const id of gone) bed.sim.account.deleteReservation(id)

    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(3)
    expect(vanished.cancelled).toEqual([])
    expect(vanished.withheld).toEqual([...gone].sort())
    expect(result.stderr).toContain(`${gone.length} reservations are gone from Gingr, more than the`)
    expect(result.stderr).toContain(`raise --max-cancel (or "maxCancel" for tenant ${bed.tenant} in --config)`)
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
    const [run] = await bed.db.sql<{ withheld: number; status: string }[]>`
      SELECT withheld, status FROM gingr_sync_runs WHERE tenant_id = ${bed.tenant} ORDER BY id DESC LIMIT 1`
    expect(run).toEqual({ withheld: gone.length, status: 'synced' })
    expect((await gingrSync(bed, ['status'])).stdout).toContain(
      `0 cancelled, ${gone.length} withheld (cancellations WITHHELD by the guard: see the log)`,
    )

    // The operator who knows Gingr really lost them raises the limit.
    const raised = await sync(bed, ['--max-cancel', '1000'])
    expect(raised.result.code).toBe(0)
    expect(raised.vanished.cancelled).toEqual([...gone].sort())
  })

  test('a dry run lists exactly what would be cancelled, and writes nothing', async () => {
    const bed = await bedOf()
    const gone = activeStays(bed, 2)
      .map((stay) => stay.reservation_id)
      .sort()
    for (const id of gone) bed.sim.account.deleteReservation(id)
    const before = await rows(bed.db.sql, bed.tenant)
    const { result, vanished } = await sync(bed, ['--dry-run'])
    expect(result.code).toBe(0)
    expect(vanished.cancelled).toEqual(gone)
    expect(result.stderr).toContain(`Would cancel (deleted in Gingr): ${gone.join(', ')}`)
    expect(result.stderr).toContain('2 would be cancelled')
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  test('--vanished report only reports; so does "vanished": "report" in --config', async () => {
    const bed = await bedOf()
    const [stay] = activeStays(bed, 1)
    bed.sim.account.deleteReservation(stay!.reservation_id)
    const before = await rows(bed.db.sql, bed.tenant)
    const flag = await sync(bed, ['--vanished', 'report'])
    expect(flag.result.code).toBe(0)
    expect(flag.vanished).toMatchObject({ cancelled: [], reported: [stay!.reservation_id] })
    expect(flag.result.stderr).toContain(`Deleted in Gingr, only reported: ${stay!.reservation_id}`)
    const config = dir.write('report.json', JSON.stringify({ tenants: { [bed.tenant]: { vanished: 'report' } } }))
    const fromConfig = await sync(bed, ['--config', config])
    expect(fromConfig.vanished.reported).toEqual([stay!.reservation_id])
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  test('several locations: a stay not found at the API user’s location is not confirmed deleted, never cancelled', async () => {
    const bed = await bedOf({ locations: 2 })
    const [elsewhere, here] = activeStays(bed, 2)
    // At location 2, the look-ups cannot see it; at location 1 they can, yet it is not cancelled either.
    bed.sim.account.changeReservation(elsewhere!.reservation_id, { location_id: '2' })
    bed.sim.account.deleteReservation(elsewhere!.reservation_id)
    bed.sim.account.deleteReservation(here!.reservation_id)
    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(0)
    expect(vanished.cancelled).toEqual([])
    expect(vanished.reported).toEqual([elsewhere!.reservation_id, here!.reservation_id].sort())
    expect(result.stderr).toContain(
      "not found at the API user's location of an account with several locations: not confirmed deleted, never cancelled",
    )
  })

  test('Gingr matching by start date: a stay that began before the window is found as stored and left alone', async () => {
    const bed = await bedOf({ match: 'start' })
    const { from } = defaultWindow()
    // A stay that began before the window and ends inside it: stored by an earlier sync of a wider window.
    const stay = bed.sim.account.addReservation({
      start: new Date(Date.parse(`${from}T12:00:00Z`) - 3 * DAY),
      end: new Date(Date.parse(`${from}T12:00:00Z`) + 2 * DAY),
    })
    const wide = await gingrSync(bed, ['--tenant', bed.tenant, '--past-days', '14'])
    expect(wide.code).toBe(0)
    const before = await rows(bed.db.sql, bed.tenant)
    expect(before.has(stay.reservation_id)).toBe(true)
    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(0)
    expect(vanished).toMatchObject({ moved: [], cancelled: [], withheld: [], reported: [] })
    expect(vanished.vanished).toBeGreaterThan(0)
    expect(result.stderr).toContain(`${vanished.vanished} found as stored)`)
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  test('more animals to look up than one run may: 50 looked up, the rest deferred to the next run', async () => {
    const bed = await beds.bed({ reservations: 160, owners: 90, animals: 150 })
    const gone = activeStays(bed, 55).map((stay) => stay.reservation_id)
    for (const id of gone) bed.sim.account.deleteReservation(id)
    const { result, vanished } = await sync(bed, ['--max-cancel', '1000'])
    expect(result.code).toBe(0)
    expect(vanished.cancelled.length).toBe(50)
    expect(vanished.deferred.length).toBe(5)
    expect(bed.sim.requests.filter((request) => request.endpoint === '/reservations_by_animal').length).toBe(50)
    expect(result.stderr).toContain('Not looked up yet (next run):')
    const next = await sync(bed, ['--max-cancel', '1000'])
    expect([...next.vanished.cancelled].sort()).toEqual([...vanished.deferred].sort())
  })

  test('a stay its look-up returns as an invalid record is left as it is, never cancelled', async () => {
    const bed = await bedOf()
    const [stay] = activeStays(bed, 1)
    // Moved weeks ahead, with an end no database can hold: gone from the window, unreadable when found.
    const later = farAhead(70)
    bed.sim.account.moveReservation(stay!.reservation_id, later, farAhead(72))
    bed.sim.account.changeReservation(stay!.reservation_id, { end_date: '9999-12-31T23:59:59-07:00' })
    const before = await rows(bed.db.sql, bed.tenant)
    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(0)
    expect(vanished).toMatchObject({ cancelled: [], moved: [], deferred: [stay!.reservation_id] })
    expect(result.stderr).toContain(`Reservation ${stay!.reservation_id} came back from its look-up as an invalid record: left as it is.`)
    expect(rewritten(before, await rows(bed.db.sql, bed.tenant))).toEqual([])
  })

  for (const [name, data] of [
    ['none', []],
    [
      'two that do not read as locations',
      [
        { id: '1', name: 'A' },
        { id: '2', name: 'B' },
      ],
    ],
  ] as const) {
    test(`/get_locations answering ${name}: nothing confirmed deleted, nothing cancelled`, async () => {
      const bed = await bedOf()
      const [stay] = activeStays(bed, 1)
      bed.sim.account.deleteReservation(stay!.reservation_id)
      bed.sim.faults.add({
        endpoint: '/get_locations',
        fault: { kind: 'status', status: 200, body: { success: true, error: false, data } },
      })
      const { result, vanished } = await sync(bed)
      expect(result.code).toBe(0)
      expect(vanished).toMatchObject({ cancelled: [], reported: [stay!.reservation_id] })
      expect(result.stderr).toContain("Gingr's locations did not read as one location")
    })
  }

  test('a failed look-up defers its stays and never cancels them', async () => {
    const bed = await bedOf()
    const [stay] = activeStays(bed, 1)
    bed.sim.account.deleteReservation(stay!.reservation_id)
    bed.sim.faults.add({ endpoint: '/reservations_by_animal', fault: { kind: 'status', status: 500 } })
    const { result, vanished } = await sync(bed)
    expect(result.code).toBe(0)
    expect(vanished).toMatchObject({ cancelled: [], deferred: [stay!.reservation_id] })
    expect(errorLines(result)).toEqual([])
    expect(result.stderr).toMatch(/Looking up animal \S+ in Gingr failed \(.*HTTP 500/)
  })
})
