/**
 * One Gingr account's politeness shared by its clients (src/gingr/pacer.ts): tenants synced side
 * by side with one subdomain start their requests apart, and a 429 holds all of them.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { GingrClient } from '../src/gingr/client.ts'
import { AccountPacer, AccountPacers } from '../src/gingr/pacer.ts'
import { type Simulator, startSimulator } from '../src/simulator/index.ts'

setDefaultTimeout(30_000)

const simulators: Simulator[] = []
afterAll(() => Promise.all(simulators.map((sim) => sim.stop())))

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({ seed: 3, today: '2025-11-17', reservations: 40 })
  simulators.push(sim)
  return sim
}

function client(sim: Simulator, pacer: AccountPacer): GingrClient {
  return new GingrClient({ subdomain: 'x', apiKey: sim.apiKey, baseUrl: sim.baseUrl, paceMs: 0, backoffBaseMs: 5, backoffMaxMs: 10, pacer })
}

const starts = (sim: Simulator) => sim.requests.map((r) => r.at).sort((a, b) => a - b)

describe.concurrent('one account, several clients', () => {
  test('requests start at least the pace apart, whichever client sends them', async () => {
    const sim = await simulator()
    const pacer = new AccountPacer(120)
    const clients = [client(sim, pacer), client(sim, pacer), client(sim, pacer)]
    await Promise.all(clients.map((c) => c.fetchReservationWindow({ from: '2025-11-10', to: '2025-12-16' })))
    const at = starts(sim)
    expect(at).toHaveLength(6)
    // The simulator stamps arrival, a few ms after the start: 100 leaves room for that jitter.
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(100)
  })

  test("a 429 with Retry-After holds the account's other clients too", async () => {
    const sim = await simulator()
    const pacer = new AccountPacer(0)
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } })
    const limited = client(sim, pacer).fetchReservationWindow({ from: '2025-11-10', to: '2025-11-20' })
    while (sim.requests.length === 0) await Bun.sleep(5)
    // Told after the 429 was answered: the other client asks while the account is held.
    await Bun.sleep(50)
    await client(sim, pacer).locations()
    await limited
    const [first, ...after] = sim.requests
    expect(first?.endpoint).toBe('/reservations')
    expect(after.map((r) => r.endpoint).sort()).toEqual(['/get_locations', '/reservations'])
    for (const request of after) expect(request.at - first!.at).toBeGreaterThanOrEqual(950)
  })

  test('without a shared pacer, another client is not held (the control)', async () => {
    const sim = await simulator()
    sim.faults.add({ endpoint: '/reservations', times: 1, fault: { kind: 'rate-limit', retryAfter: 1 } })
    const limited = client(sim, new AccountPacer(0)).fetchReservationWindow({ from: '2025-11-10', to: '2025-11-20' })
    while (sim.requests.length === 0) await Bun.sleep(5)
    await client(sim, new AccountPacer(0)).locations()
    await limited
    const [first, other] = sim.requests
    expect(other?.endpoint).toBe('/get_locations')
    expect(other!.at - first!.at).toBeLessThan(900)
  })

  test('accounts are told apart by subdomain, else by address', () => {
    const pacers = new AccountPacers(150)
    expect(pacers.of({ subdomain: 'Denver' })).toBe(pacers.of({ subdomain: 'denver' }))
    expect(pacers.of({ subdomain: 'denver' })).not.toBe(pacers.of({ subdomain: 'boulder' }))
    // One proxy (or simulator) in front of two accounts: two pacers.
    expect(pacers.of({ subdomain: 'a', baseUrl: 'http://127.0.0.1:9/api' })).not.toBe(
      pacers.of({ subdomain: 'b', baseUrl: 'http://127.0.0.1:9/api' }),
    )
    expect(pacers.of({ subdomain: '', baseUrl: 'http://127.0.0.1:9/api/' })).toBe(
      pacers.of({ subdomain: '', baseUrl: 'http://127.0.0.1:9/api' }),
    )
  })
})
