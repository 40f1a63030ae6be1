/**
 * Fault injection: a list of rules, each matching some requests and turning their answer into
 * one of the failures real Gingr imports have met (throttling, proxies, hangs, half bodies,
 * odd data shapes). Rules are checked in the order they were added; the first live one whose
 * endpoint and `when` match applies and uses up one of its `times`.
 */
import * as v from 'valibot'
import { type Answer, bodyBytes, errorMessage, errorString, jsonAnswer } from './serialize.ts'

const Count = v.pipe(v.number(), v.integer(), v.minValue(1))

export const FaultSchema = v.variant('kind', [
  /** That status, with a JSON error body unless `body` is given (a string is sent verbatim), and `headers` (a redirect's Location). */
  v.strictObject({
    kind: v.literal('status'),
    status: v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(599)),
    body: v.optional(v.unknown()),
    headers: v.optional(v.record(v.string(), v.string())),
  }),
  /** 429; Retry-After only when `retryAfter` is given (seconds, or an HTTP date as a string). */
  v.strictObject({ kind: v.literal('rate-limit'), retryAfter: v.optional(v.union([v.pipe(v.number(), v.minValue(0)), v.string()])) }),
  /** The normal answer, after `ms`. */
  v.strictObject({ kind: v.literal('delay'), ms: v.pipe(v.number(), v.minValue(0)) }),
  /** Headers never sent: the connection stays open until the client gives up or stop() resets it. */
  v.strictObject({ kind: v.literal('hang') }),
  /** HTTP 200 text/html: the login page a proxy or an expired session serves instead of JSON. */
  v.strictObject({ kind: v.literal('html') }),
  /** HTTP 200 `{"success":false,"error":true,"message":...}`. */
  v.strictObject({ kind: v.literal('json-error'), message: v.optional(v.string()) }),
  /** The normal body cut half way, Content-Length matching the cut body. */
  v.strictObject({ kind: v.literal('truncated') }),
  /** The normal body behind a PHP notice, still labelled application/json. */
  v.strictObject({ kind: v.literal('malformed') }),
  /** The normal answer plus `count` (default 2) records that no schema should accept. */
  v.strictObject({ kind: v.literal('invalid-records'), count: v.optional(Count) }),
  /** `data` as an array instead of an object keyed by id. */
  v.strictObject({ kind: v.literal('array-data') }),
  /** Every id (`id`, `*_id` holding digits) as a JSON number. */
  v.strictObject({ kind: v.literal('numeric-ids') }),
  /** `data` as an array in which every third record appears a second time, at the end. */
  v.strictObject({ kind: v.literal('duplicate-ids') }),
  /**
   * Every reservation timestamp in another form real Gingr integrations have met: `utc`
   * (`2025-11-17T20:00:00Z`), `local` (wall time, no offset: `2025-11-17T13:00:00`), `mysql`
   * (`2025-11-17 13:00:00`), `unix` (seconds, a JSON number) or `unix-string` (`"1763409600"`).
   */
  v.strictObject({ kind: v.literal('timestamp-form'), form: v.picklist(['utc', 'local', 'mysql', 'unix', 'unix-string']) }),
  /** HTTP 200 JSON that never ends: record after record until the client hangs up (or 4 GiB). */
  v.strictObject({ kind: v.literal('endless') }),
  /** HTTP 200 `Content-Encoding: gzip`: `megabytes` MB (default 64) of JSON white space, sent as a few dozen KB. */
  v.strictObject({ kind: v.literal('gzip-bomb'), megabytes: v.optional(v.pipe(Count, v.maxValue(1024))) }),
])
export type Fault = v.InferOutput<typeof FaultSchema>

const RuleEntries = {
  /** '/reservations', '/owners', ...; omitted = every endpoint. */
  endpoint: v.optional(v.string()),
  /** Applies to this many matching requests, then is spent; omitted = always. */
  times: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  fault: FaultSchema,
}
const RuleSchema = v.object(RuleEntries)

/** The control API's rule: no function over HTTP, so `nth` stands for `when: ({ n }) => n === nth`. */
export const ControlRuleSchema = v.strictObject({ ...RuleEntries, nth: v.optional(Count) })

export interface FaultRequest {
  endpoint: string
  params: Record<string, string>
  /** 1-based number of this request to that endpoint since the simulator started. */
  n: number
}

export type FaultRule = v.InferOutput<typeof RuleSchema> & { when?: (req: FaultRequest) => boolean }

export interface SimFaults {
  add(rule: FaultRule): void
  clear(): void
}

export class FaultBook implements SimFaults {
  private rules: { rule: FaultRule; left: number }[] = []

  add(rule: FaultRule): void {
    const { when: _when, ...data } = rule
    v.parse(RuleSchema, data)
    this.rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY })
  }

  clear(): void {
    this.rules = []
  }

  /** Rules that can still apply. */
  get live(): number {
    return this.rules.filter((entry) => entry.left > 0).length
  }

  /** The fault for this request, if any, spending one use of the rule that supplied it. */
  take(req: FaultRequest): Fault | null {
    for (const entry of this.rules) {
      if (entry.left <= 0) continue
      if (entry.rule.endpoint !== undefined && entry.rule.endpoint !== req.endpoint) continue
      if (entry.rule.when !== undefined && !entry.rule.when(req)) continue
      entry.left -= 1
      this.rules = this.rules.filter((candidate) => candidate.left > 0)
      return entry.rule.fault
    }
    return null
  }
}

const HTML_TYPE = 'text/html; charset=utf-8'

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Gingr | Log In</title></head>
<body class="login">
  <form method="post" action="/auth/login">
    <h1>Welcome back</h1>
    <label>Email <input type="email" name="identity"></label>
    <label>Password <input type="password" name="password"></label>
    <button type="submit">Log In</button>
  </form>
</body>
</html>
`

/** What PHP prints before the JSON when a notice slips through in production. */
const PHP_NOTICE =
  '<br />\n<b>Notice</b>:  Undefined index: location_id in <b>/var/www/app/controllers/api/V1.php</b> on line <b>212</b><br />\n'

/** The answer of a fault that replaces the normal answer whatever it would have been. */
export function replacingAnswer(fault: Fault): Answer | null {
  switch (fault.kind) {
    case 'status': {
      const answer = statusAnswer(fault.status, fault.body)
      Object.assign(answer.headers, fault.headers)
      return answer
    }
    case 'rate-limit': {
      const answer = jsonAnswer(429, errorString('Too many requests, slow down.'))
      if (fault.retryAfter !== undefined) answer.headers['retry-after'] = String(fault.retryAfter)
      return answer
    }
    case 'html':
      return { status: 200, body: LOGIN_PAGE, headers: { 'content-type': HTML_TYPE } }
    case 'json-error':
      return jsonAnswer(200, errorMessage(fault.message ?? 'An unexpected error occurred.'))
    case 'gzip-bomb':
      return {
        status: 200,
        body: gzipBomb(fault.megabytes ?? 64),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      }
    default:
      return null
  }
}

const bombs = new Map<number, Uint8Array>()

/** `{"success":true,"data":[` + spaces + `]}`: valid JSON, ~1000:1 compressed; made once per size. */
function gzipBomb(megabytes: number): Uint8Array {
  let bomb = bombs.get(megabytes)
  if (!bomb) {
    const json = new Uint8Array(megabytes * 1024 * 1024).fill(0x20)
    json.set(new TextEncoder().encode('{"success":true,"data":['), 0)
    json.set(new TextEncoder().encode(']}'), json.length - 2)
    bomb = Bun.gzipSync(json, { level: 9 })
    bombs.set(megabytes, bomb)
  }
  return bomb
}

/** A body that never ends (until `signal`, or 4 GiB): one reservation-like record after another. */
export function endlessBody(signal: AbortSignal): ReadableStream<Uint8Array> {
  const record = new TextEncoder().encode(`${JSON.stringify({ reservation_id: '1', notes: 'x'.repeat(4000) })},`)
  const limit = (4 * 1024 ** 3) / record.length
  let sent = 0
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"success":true,"data":['))
    },
    pull(controller) {
      if (signal.aborted || sent >= limit) return controller.close()
      for (let i = 0; i < 64; i++) controller.enqueue(record)
      sent += 64
    },
  })
}

function statusAnswer(status: number, body: unknown): Answer {
  if (body === undefined) return jsonAnswer(status, errorString(`HTTP ${status}`))
  if (typeof body === 'string') {
    return { status, body, headers: { 'content-type': body.trimStart().startsWith('<') ? HTML_TYPE : 'text/plain; charset=utf-8' } }
  }
  return jsonAnswer(status, JSON.stringify(body))
}

/** The body-level faults, applied to whatever the normal answer was (errors included). */
export function damageBody(fault: Fault, body: string | Uint8Array): string | Uint8Array {
  switch (fault.kind) {
    case 'truncated': {
      // Cut in bytes, as a dropped connection does: possibly inside a UTF-8 sequence.
      const bytes = bodyBytes(body)
      return bytes.subarray(0, Math.floor(bytes.length / 2))
    }
    case 'malformed': {
      const notice = bodyBytes(PHP_NOTICE)
      const bytes = bodyBytes(body)
      const out = new Uint8Array(notice.length + bytes.length)
      out.set(notice, 0)
      out.set(bytes, notice.length)
      return out
    }
    default:
      return body
  }
}
