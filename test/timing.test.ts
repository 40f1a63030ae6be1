/**
 * src/timing.ts: production's waits, and GINGR_SYNC_TEST_TIMING over them. That the binary refuses
 * a malformed value (exit 2) is test/faults-input.test.ts's; that it keeps production's pace
 * without one, and never shows the variable in --help, test/e2e.test.ts's.
 */
import { describe, expect, test } from 'bun:test'
import { UsageError } from '../src/errors.ts'
import { PRODUCTION_TIMING, parseTiming } from '../src/timing.ts'

describe('parseTiming', () => {
  test.each([undefined, '', '  '])('%p is production timing, value for value', (text) => {
    // Written out, so that a changed default is a decision someone makes here too.
    expect(parseTiming(text)).toEqual({
      gingrTimeoutMs: 30_000,
      gingrDeadlineMs: 300_000,
      backoffBaseMs: 1_000,
      backoffMaxMs: 30_000,
      paceMs: 150,
      doctorTimeoutMs: 10_000,
      doctorBackoffBaseMs: 500,
      leaseMs: 60_000,
      leaseRenewMs: 10_000,
      lockPollMs: 500,
      pingTimeoutMs: 5_000,
      closeTimeoutMs: 5_000,
    })
  })

  test("the values given replace production's, the others stay", () => {
    expect(parseTiming('{"backoffBaseMs":10,"paceMs":0}')).toEqual({ ...PRODUCTION_TIMING, backoffBaseMs: 10, paceMs: 0 })
  })

  test('every setting can be given', () => {
    const zeros = Object.fromEntries(Object.keys(PRODUCTION_TIMING).map((key) => [key, 0]))
    expect(Object.entries(parseTiming(JSON.stringify(zeros)))).toEqual(Object.entries(zeros))
  })

  test('the result is a copy: changing it changes no default', () => {
    const timing = parseTiming(undefined) as Record<string, number>
    timing.paceMs = 1
    expect(parseTiming(undefined).paceMs).toBe(150)
  })

  const malformed: Array<[string, RegExp]> = [
    ['backoffBaseMs=10', /^GINGR_SYNC_TEST_TIMING is not valid JSON\.$/],
    ['[10]', /^GINGR_SYNC_TEST_TIMING must be a JSON object such as \{"backoffBaseMs":10\}\.$/],
    ['null', /must be a JSON object/],
    ['42', /must be a JSON object/],
    ['{"backofBaseMs":10}', /^GINGR_SYNC_TEST_TIMING has no setting "backofBaseMs"; it knows gingrTimeoutMs, .*closeTimeoutMs\.$/],
    ['{"toString":10}', /has no setting "toString"/],
    ['{"pingTimeoutMs":-1}', /^GINGR_SYNC_TEST_TIMING: pingTimeoutMs must be a whole number of milliseconds from 0 to 86400000\.$/],
    ['{"paceMs":1.5}', /paceMs must be a whole number of milliseconds/],
    ['{"paceMs":"10"}', /paceMs must be a whole number of milliseconds/],
    ['{"paceMs":null}', /paceMs must be a whole number of milliseconds/],
    ['{"closeTimeoutMs":86400001}', /closeTimeoutMs must be a whole number of milliseconds from 0 to 86400000/],
  ]
  test.each(malformed)('%s is refused with a sentence, not ignored', (text, says) => {
    let thrown: unknown
    try {
      parseTiming(text)
    } catch (error) {
      thrown = error
    }
    // A UsageError: the CLI turns it into exit 2 before anything is done.
    expect(thrown).toBeInstanceOf(UsageError)
    expect((thrown as Error).message).toMatch(says)
    // Never quoted back, as no setting is: only the setting's name.
    expect((thrown as Error).message).not.toContain(text)
  })
})
