/**
 * What an hour at a busy resort changes: a share of the window's reservations checked in, checked
 * out, cancelled or re-noted, through the simulator account's own mutation API. Every change touches
 * a column gingr-sync writes, so each changed reservation must come back as exactly one update.
 */
import type { SimAccount } from '../src/simulator/index.ts'

const MINUTE = 60_000

/**
 * Changes `share` of the reservations in `ids` (spread evenly over them). `round` makes each call
 * differ from the last (the timestamps and notes carry it), so repeated rounds on the same
 * reservations still change them. Returns how many were changed.
 */
export function changeShare(account: SimAccount, ids: readonly string[], share: number, round: number): number {
  const step = Math.max(1, Math.round(1 / share))
  // Each round starts at a different offset, so successive rounds touch different reservations.
  let changed = 0
  for (let index = round % step; index < ids.length; index += step) {
    const id = ids[index]!
    const record = account.reservations.get(id)
    if (!record) continue
    // Whole minutes apart per round: Gingr's timestamps carry seconds, not milliseconds.
    const at = new Date(Date.now() - (round + 1) * MINUTE)
    switch (changed % 4) {
      case 0:
        account.checkIn(id, at)
        break
      case 1:
        account.checkOut(id, at)
        break
      case 2:
        account.cancelReservation(id, at)
        break
      default:
        account.changeReservation(id, { notes: { ...record.notes, reservation_notes: `Bench round ${round}: late pick-up agreed.` } })
    }
    changed++
  }
  return changed
}
