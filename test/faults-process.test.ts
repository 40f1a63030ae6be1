/**
 * The fault matrix, the process's side (RELIABILITY.md): the binary stopped by a signal while it
 * waits on Gingr or inside its transaction. SIGTERM inside the transaction is proven by
 * test/e2e.test.ts ("SIGTERM inside the transaction rolls it back and exits 143").
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import {
  type Bed,
  type Beds,
  defaultWindow,
  differences,
  gingrSync,
  holdTenantRow,
  snapshot,
  startBeds,
  startRun,
  waitForLock,
  waitForUnlock,
} from './_faults.ts'

let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-process')
})
afterAll(async () => {
  await beds?.stop()
})

/** Gingr changes in every way the sync writes: a new stay, a cancelled one, a moved one. */
function changeGingr(bed: Bed): void {
  const { from, to } = defaultWindow()
  const [cancelled, moved] = bed.sim.account.matching(from, to).filter((r) => !r.cancelled_date && !r.check_in_date)
  bed.sim.account.addReservation()
  bed.sim.account.cancelReservation(cancelled!.reservation_id)
  const later = (stamp: string) => new Date(Date.parse(stamp) + 3_600_000)
  bed.sim.account.moveReservation(moved!.reservation_id, later(moved!.start_date), later(moved!.end_date))
}

// Each case on a bed of its own (its faults, its tenant's lock): side by side.
describe.concurrent('the process stopped mid-run', () => {
  test('SIGKILL inside the transaction: nothing written; the next normal run makes the database equal Gingr', async () => {
    const bed = await beds.bed()
    changeGingr(bed)
    expect(await differences(bed)).not.toEqual([])
    const before = await snapshot(bed.db.sql, bed.tenant)
    const held = await holdTenantRow(bed.db.sql, bed.tenant)
    try {
      const { proc, done } = await startRun(bed, ['--tenant', bed.tenant])
      await waitForLock(bed.db.sql, bed.tenant)
      proc.kill('SIGKILL')
      await done
      expect(proc.signalCode).toBe('SIGKILL')
    } finally {
      await held.release()
    }
    // The killed run's session is rolled back as soon as PostgreSQL notices the client is gone.
    await waitForUnlock(bed.db.sql, bed.tenant)
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)

    const next = await gingrSync(bed, ['--tenant', bed.tenant])
    expect(next.code).toBe(0)
    expect(next.stderr).toMatch(/Reservations: 1 created, 2 updated/)
    expect(await differences(bed)).toEqual([])
  })

  test('SIGTERM while Gingr hangs: the request is aborted at once, exit 143, nothing written', async () => {
    const bed = await beds.bed()
    bed.sim.account.addReservation()
    const before = await snapshot(bed.db.sql, bed.tenant)
    bed.sim.faults.add({ endpoint: '/reservations', fault: { kind: 'hang' } })
    try {
      // The default 30 s timeout: only the signal can end this run early.
      const since = bed.sim.requests.length
      const { proc, done } = await startRun(bed, ['--tenant', bed.tenant])
      while (bed.sim.requests.length === since) await Bun.sleep(20)
      const sent = performance.now()
      proc.kill('SIGTERM')
      const result = await done
      expect(performance.now() - sent).toBeLessThan(10_000)
      expect(result.code).toBe(143)
      expect(result.stderr).toContain('Stopped by SIGTERM')
    } finally {
      bed.sim.faults.clear()
    }
    expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
  })
})
