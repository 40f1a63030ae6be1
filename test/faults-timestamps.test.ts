/**
 * Gingr's timestamps in every form an integration has met, through the compiled binary: each form
 * syncs the same window into the same rows (read in the tenant's own zone where the form has no
 * offset), so switching forms between runs rewrites nothing.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { type Bed, differences, gingrSync, startBed, stopBed } from './_faults.ts'

const TENANT = 'fault-timestamps'
let bed: Bed

setDefaultTimeout(60_000)

beforeAll(async () => {
  bed = await startBed(TENANT)
})
afterAll(async () => {
  await stopBed(bed)
})

describe('every timestamp form: the window equals Gingr, nothing else rewritten', () => {
  for (const form of ['utc', 'local', 'mysql', 'unix', 'unix-string'] as const) {
    test(form, async () => {
      bed.sim.account.addReservation()
      bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'timestamp-form', form } })
      try {
        const result = await gingrSync(bed, ['--tenant', TENANT, '--json'])
        expect(result.code).toBe(0)
        const [tenant] = JSON.parse(result.stdout).tenants
        expect(tenant.invalid).toEqual([])
        // The one new stay, and not one row rewritten for reading the same instants another way.
        expect(tenant.reservations).toMatchObject({ created: 1, updated: 0, skipped: 0 })
        expect(await differences(bed)).toEqual([])
      } finally {
        bed.sim.faults.clear()
      }
    })
  }
})
