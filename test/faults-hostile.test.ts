/**
 * The fault matrix, answers a hostile (or broken) Gingr can send (RELIABILITY.md), through the
 * compiled binary: each run ends, with a sentence and exit 1, writes nothing, holds its memory to
 * the answer limit, and no output holds the key — whole or any 8-character piece of it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { FaultRule } from '../src/simulator/index.ts'
import { type Bed, errorLines, gingrSync, lastRun, leaks, snapshot, startBed, stopBed } from './_faults.ts'

const TENANT = 'fault-hostile'
let bed: Bed

setDefaultTimeout(60_000)

beforeAll(async () => {
  bed = await startBed(TENANT)
})
afterAll(async () => {
  await stopBed(bed)
})

/** A long Gingr error that quotes the key after 167 characters: where the old clip cut it in two. */
const quotingTheKey = () => `${'x'.repeat(167)} key=${bed.sim.apiKey} was refused`

const cases: Array<{ name: string; rule: () => FaultRule; env?: Record<string, string>; says: RegExp }> = [
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
    rule: () => ({ endpoint: '/reservations', fault: { kind: 'status', status: 500, body: { error: quotingTheKey() } } }),
    says: /HTTP 500 \(Internal Server Error: "x+ key=\[redacted\] was refused"\)/,
  },
  {
    name: 'a JSON error with HTTP 200 that quotes the key after 167 characters',
    rule: () => ({ endpoint: '/reservations', fault: { kind: 'json-error', message: quotingTheKey() } }),
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
]

describe('hostile answers: exit 1, one sentence, nothing written, no key', () => {
  for (const { name, rule, env, says } of cases) {
    test(name, async () => {
      bed.sim.account.addReservation()
      const before = await snapshot(bed.db.sql, TENANT)
      bed.sim.faults.add(rule())
      let result: Awaited<ReturnType<typeof gingrSync>>
      try {
        result = await gingrSync(bed, ['--tenant', TENANT, '--json'], env)
      } finally {
        bed.sim.faults.clear()
      }
      expect(result.code).toBe(1)
      const [error, ...others] = errorLines(result).filter((line) => line.includes('Sync failed'))
      expect(others).toEqual([])
      expect(error).toMatch(says)
      expect(await snapshot(bed.db.sql, TENANT)).toEqual(before)
      const recorded = await lastRun(bed.db.sql, TENANT)
      expect(recorded?.status).toBe('failed')
      // gingrSync searched every output, and stopBed searches the run history, for any piece of the key.
      expect(leaks(bed, recorded?.error ?? '')).toEqual([])
      await gingrSync(bed, ['status'])
    })
  }

  test('GINGR_SYNC_MAX_RESPONSE_MB out of range is a usage error', async () => {
    const result = await gingrSync(bed, ['--tenant', TENANT], { GINGR_SYNC_MAX_RESPONSE_MB: '0' })
    expect(result.code).toBe(2)
    expect(errorLines(result)).toEqual([
      expect.stringContaining('GINGR_SYNC_MAX_RESPONSE_MB must be a whole number of MB from 1 to 4096, not "0".'),
    ])
  })
})
