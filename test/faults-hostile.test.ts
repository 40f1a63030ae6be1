/**
 * The fault matrix, answers a hostile (or broken) Gingr can send (RELIABILITY.md), through the
 * compiled binary: each run ends, with a sentence and exit 1, writes nothing, holds its memory to
 * the answer limit, and no output holds the key — whole or any 8-character piece of it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { FaultRule } from '../src/simulator/index.ts'
import { type Beds, errorLines, gingrSync, lastRun, leaks, snapshot, startBeds } from './_faults.ts'

let beds: Beds

setDefaultTimeout(60_000)

beforeAll(async () => {
  beds = await startBeds('fault-hostile')
})
afterAll(async () => {
  await beds?.stop()
})

/** A long Gingr error that quotes the key after 167 characters: where the old clip cut it in two. */
const quotingTheKey = (apiKey: string) => `${'x'.repeat(167)} key=${apiKey} was refused`

const cases: Array<{ name: string; rule: (apiKey: string) => FaultRule; env?: Record<string, string>; says: RegExp }> = [
  {
    name: 'an endless 200 body',
    rule: () => ({ endpoint: '/reservations', fault: { kind: 'endless' } }),
    env: { GINGR_SYNC_MAX_RESPONSE_MB: '2' },
    says: /failed after 1 attempt: an answer larger than 2 MB, cut off there \(GINGR_SYNC_MAX_RESPONSE_MB raises the limit\)\./,
  },
  {
    name: 'a gzip bomb (64 MB of JSON in a few dozen KB)',
    rule: () => ({ endpoint: '/reservations', fault: { kind: 'gzip-bomb', megabytes: 64 } }),
    env: { GINGR_SYNC_MAX_RESPONSE_MB: '2' },
    says: /failed after 1 attempt: an answer larger than 2 MB, cut off there/,
  },
  {
    name: 'an envelope without data ({})',
    rule: () => ({ endpoint: '/reservations', fault: { kind: 'status', status: 200, body: {} } }),
    says: /failed after 1 attempt: JSON without Gingr's `data` \(an answer that says nothing\)\./,
  },
  {
    name: 'an HTTP 500 whose error quotes the key after 167 characters',
    rule: (apiKey) => ({ endpoint: '/reservations', fault: { kind: 'status', status: 500, body: { error: quotingTheKey(apiKey) } } }),
    says: /HTTP 500 \(Internal Server Error: "x+ key=\[redacted\] was refused"\)/,
  },
  {
    name: 'a JSON error with HTTP 200 that quotes the key after 167 characters',
    rule: (apiKey) => ({ endpoint: '/reservations', fault: { kind: 'json-error', message: quotingTheKey(apiKey) } }),
    says: /Gingr answered with an error: "x+ key=\[redacted\] was refused"/,
  },
  {
    name: 'a redirect elsewhere (never followed: it would carry the key)',
    rule: () => ({
      endpoint: '/reservations',
      fault: { kind: 'status', status: 307, body: { error: 'moved' }, headers: { location: 'https://u:p@evil.example/steal?key=x' } },
    }),
    says: /HTTP 307 \(Temporary Redirect: "moved"\), a redirect \(not followed\) to https:\/\/evil\.example\/steal\./,
  },
  {
    name: 'a redirect whose path holds the key, every character percent-encoded',
    rule: (apiKey) => ({
      endpoint: '/reservations',
      fault: {
        kind: 'status',
        status: 302,
        body: { error: 'login' },
        headers: {
          location: `/login/${[...apiKey].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('')}/x`,
        },
      },
    }),
    says: /HTTP 302 \(Found: "login"\), a redirect \(not followed\) to \/login\/\[redacted\]\/x\./,
  },
]

// Each case on a bed of its own (a simulator's faults hit every request it answers): side by side.
describe.concurrent('hostile answers: exit 1, one sentence, nothing written, no key', () => {
  for (const { name, rule, env, says } of cases) {
    test(name, async () => {
      const bed = await beds.bed()
      bed.sim.account.addReservation()
      const before = await snapshot(bed.db.sql, bed.tenant)
      bed.sim.faults.add(rule(bed.sim.apiKey))
      let result: Awaited<ReturnType<typeof gingrSync>>
      try {
        result = await gingrSync(bed, ['--tenant', bed.tenant, '--json'], env)
      } finally {
        bed.sim.faults.clear()
      }
      expect(result.code).toBe(1)
      const [error, ...others] = errorLines(result).filter((line) => line.includes('Sync failed'))
      expect(others).toEqual([])
      expect(error).toMatch(says)
      expect(await snapshot(bed.db.sql, bed.tenant)).toEqual(before)
      const recorded = await lastRun(bed.db.sql, bed.tenant)
      expect(recorded?.status).toBe('failed')
      // gingrSync searched every output, and beds.stop searches the run history, for any piece of the key.
      expect(leaks(bed, recorded?.error ?? '')).toEqual([])
      await gingrSync(bed, ['status'])
    })
  }

  test('GINGR_SYNC_MAX_RESPONSE_MB out of range is a usage error', async () => {
    const bed = await beds.bed()
    const result = await gingrSync(bed, ['--tenant', bed.tenant], { GINGR_SYNC_MAX_RESPONSE_MB: '0' })
    expect(result.code).toBe(2)
    expect(errorLines(result)).toEqual([
      expect.stringContaining('GINGR_SYNC_MAX_RESPONSE_MB must be a whole number of MB from 1 to 4096, not "0".'),
    ])
  })
})
