/**
 * One HTTP attempt against Gingr and what its answer means. No retries here: `client.ts` decides
 * what to do with a `Failure`; this file only says whether it is worth another attempt.
 */
import * as v from 'valibot'
import { errorMessage } from '../errors.ts'
import { formatDuration, type GingrErrorKind } from './errors.ts'
import { Envelope } from './schemas.ts'

export type Outcome =
  | { kind: 'answer'; status: number; statusText: string; headers: Headers; text: string }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'network'; message: string }
  | { kind: 'aborted' }

export interface Failure {
  kind: GingrErrorKind
  status?: number
  /** What came back, as the end of a sentence: `HTTP 503 (Service Unavailable: "down")`. */
  detail: string
  retryable: boolean
  /** From a `Retry-After` header, when the server sent a usable one. */
  retryAfterMs?: number
}

/**
 * Sends one request with its own timeout, which also covers reading the body: a server that sends
 * headers and then trickles (or stalls) the body must not hold the run any longer than a hang.
 */
export async function send(url: string, init: RequestInit, timeoutMs: number, outer?: AbortSignal): Promise<Outcome> {
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  const onAbort = () => controller.abort()
  outer?.addEventListener('abort', onAbort, { once: true })
  try {
    const response = await fetch(url, { ...init, signal: controller.signal })
    const text = await response.text()
    return { kind: 'answer', status: response.status, statusText: response.statusText, headers: response.headers, text }
  } catch (error) {
    if (outer?.aborted) return { kind: 'aborted' }
    if (timedOut) return { kind: 'timeout', afterMs: timeoutMs }
    return { kind: 'network', message: errorMessage(error) }
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}

/** The envelope of a successful answer, or why the answer is not one; `now` dates a `Retry-After`. */
export function interpret(outcome: Exclude<Outcome, { kind: 'aborted' }>, now: number): Envelope | Failure {
  switch (outcome.kind) {
    case 'timeout':
      return { kind: 'timeout', detail: `timed out after ${formatDuration(outcome.afterMs)}`, retryable: true }
    case 'network':
      return { kind: 'network', detail: `a network error (${clip(outcome.message)})`, retryable: true }
    case 'answer':
      return outcome.status >= 200 && outcome.status < 300 ? interpretBody(outcome) : httpFailure(outcome, now)
  }
}

function httpFailure(answer: Extract<Outcome, { kind: 'answer' }>, now: number): Failure {
  const { status } = answer
  const said = isHtml(answer) ? 'an HTML page' : gingrText(answer.text)
  const inside = [answer.statusText, said && said !== 'an HTML page' ? `"${said}"` : said].filter(Boolean).join(': ')
  const detail = `HTTP ${status}${inside ? ` (${inside})` : ''}`
  // 429 is "slow down" and 5xx (502s have been seen) is the far side's trouble: both pass.
  const retryable = status === 429 || status >= 500
  const failure: Failure = {
    kind: 'http',
    status,
    detail: status === 401 || status === 403 ? `${detail}: the API key was rejected` : detail,
    retryable,
  }
  const retryAfterMs = retryable ? parseRetryAfter(answer.headers.get('retry-after'), now) : undefined
  return retryAfterMs === undefined ? failure : { ...failure, retryAfterMs }
}

function interpretBody(answer: Extract<Outcome, { kind: 'answer' }>): Envelope | Failure {
  const { status } = answer
  // A login redirect or a proxy's error page arrives as 200 text/html: retrying will not log in.
  if (isHtml(answer)) return { kind: 'html', status, detail: 'an HTML page instead of JSON', retryable: false }
  let json: unknown
  try {
    json = JSON.parse(answer.text)
  } catch {
    // Most often a body cut off by a dropped connection: worth another attempt.
    return { kind: 'invalid-json', status, detail: `invalid JSON (${answer.text.length} characters)`, retryable: true }
  }
  const envelope = v.safeParse(Envelope, json, { abortEarly: true })
  if (!envelope.success) {
    const [issue] = envelope.issues
    const where = v.getDotPath(issue) ?? 'body'
    return { kind: 'shape', status, detail: `JSON that is not Gingr's envelope (${where}: ${clip(issue.message)})`, retryable: false }
  }
  const { success, error, message } = envelope.output
  if (success === false || (error !== undefined && error !== null && error !== false && error !== '')) {
    const said = typeof error === 'string' && error.trim() !== '' ? error : message
    const detail = said ? `Gingr answered with an error: "${clip(said)}"` : 'Gingr answered with an error and no message'
    // HTTP 200 with an error is Gingr's considered answer (bad range, bad parameter): not retried.
    return { kind: 'api', status, detail, retryable: false }
  }
  return envelope.output
}

/** A page, not a PHP notice glued before JSON (that one is "invalid JSON", and may pass). */
function isHtml(answer: Extract<Outcome, { kind: 'answer' }>): boolean {
  const type = answer.headers.get('content-type') ?? ''
  return type.includes('text/html') || /^\s*<(!doctype|html)/i.test(answer.text)
}

/** Gingr's own words from a JSON error body (`error` text, else `message`), if there are any. */
function gingrText(body: string): string | null {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json !== 'object' || json === null) return null
    const error = 'error' in json ? json.error : undefined
    const said = typeof error === 'string' && error.trim() !== '' ? error : 'message' in json ? json.message : undefined
    return typeof said === 'string' && said.trim() !== '' ? clip(said) : null
  } catch {
    return body.trim() === '' ? null : clip(body)
  }
}

/**
 * The three forms of an HTTP-date (RFC 9110 §5.6.7), all in GMT: IMF-fixdate, RFC 850's and
 * asctime's. Date.parse alone takes far more: "1.5" as 5 January 2001 (so no wait at all instead of
 * the backoff), and asctime's form as local time.
 */
const HTTP_DATE = /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/

/** `Retry-After` is either delta-seconds or an HTTP date, which is read against `now`; anything else is ignored. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  if (!HTTP_DATE.test(value)) return undefined
  const at = Date.parse(value.endsWith(' GMT') ? value : `${value} GMT`)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Echoed server text stays short and on one line. */
function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
