/**
 * One HTTP attempt against Gingr and what its answer means. No retries here: `client.ts` decides
 * what to do with a `Failure`; this file only says whether it is worth another attempt.
 */
import * as v from 'valibot'
import { errorMessage } from '../errors.ts'
import { formatDuration, type GingrErrorKind } from './errors.ts'
import { AnswerSplitter, decodeText, type SplitAnswer } from './json.ts'
import { Envelope } from './schemas.ts'

/**
 * An answer's body: split as it came, its records already handed to the caller's `each` (json.ts),
 * or whole, as bytes (an error page, an answer that is not a JSON object, a call without `each`).
 */
export type Body = { split: SplitAnswer } | { whole: Uint8Array }

/** What a call makes of each record of an answer's `data` as it arrives (validates it). */
export type EachRecord = (record: unknown) => unknown

export type Outcome =
  | { kind: 'answer'; status: number; statusText: string; headers: Headers; body: Body }
  | { kind: 'too-large'; status: number; limitBytes: number }
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
 * The body is read up to `maxBytes` (after decompression: a small gzip bomb counts at its real
 * size), and the request is cut off past it: an endless answer must not grow memory without bound.
 * A successful answer's records go to `each` as they arrive (json.ts), when it is given.
 */
export async function send(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  maxBytes: number,
  outer?: AbortSignal,
  each?: EachRecord,
): Promise<Outcome> {
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
    const split = each !== undefined && response.ok && !(response.headers.get('content-type') ?? '').includes('text/html')
    const body = split ? await splitBody(response, maxBytes, each) : await readBody(response, maxBytes)
    if (body === undefined) {
      controller.abort()
      return { kind: 'too-large', status: response.status, limitBytes: maxBytes }
    }
    return { kind: 'answer', status: response.status, statusText: response.statusText, headers: response.headers, body }
  } catch (error) {
    if (outer?.aborted) return { kind: 'aborted' }
    if (timedOut) return { kind: 'timeout', afterMs: timeoutMs }
    return { kind: 'network', message: errorMessage(error) }
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}

/**
 * The body's bytes, or undefined once they pass `maxBytes`. An uncompressed body of a declared
 * length cannot pass it: it is read whole, natively (no chunk is made). Any other body is read
 * chunk by chunk, counted after decompression (a small gzip bomb counts at its real size), and
 * copied into one buffer as it comes, doubled as needed, rather than kept as chunks and joined at
 * the end: an answer of tens of MB is then held once, not twice.
 */
async function readBody(response: Response, maxBytes: number): Promise<Body | undefined> {
  const declared = Number(response.headers.get('content-length'))
  if (declared > maxBytes) return undefined
  if (!response.body) return { whole: new Uint8Array(0) }
  if (declared > 0 && !response.headers.has('content-encoding')) return { whole: new Uint8Array(await response.arrayBuffer()) }
  const reader = response.body.getReader()
  // Content-Length counts the bytes before decompression: a start, not a bound.
  let buffer = new Uint8Array(declared > 0 ? declared : 64 * 1024)
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (size + value.byteLength > maxBytes) {
      await reader.cancel().catch(() => {})
      return undefined
    }
    if (size + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(size + value.byteLength, buffer.byteLength * 2)))
      grown.set(buffer.subarray(0, size))
      buffer = grown
    }
    buffer.set(value, size)
    size += value.byteLength
  }
  return { whole: size === buffer.byteLength ? buffer : buffer.subarray(0, size) }
}

/** The body split as it comes (json.ts), counted as readBody counts it; undefined past `maxBytes`. */
async function splitBody(response: Response, maxBytes: number, each: EachRecord): Promise<Body | undefined> {
  if (Number(response.headers.get('content-length')) > maxBytes) return undefined
  const splitter = new AnswerSplitter(each)
  if (response.body) {
    const reader = response.body.getReader()
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await reader.cancel().catch(() => {})
        return undefined
      }
      splitter.push(value)
    }
  }
  return splitter.end()
}

/**
 * The envelope of a successful answer, or why the answer is not one; `now` dates a `Retry-After`.
 * Text the server sent is echoed in the failure's detail through `scrub` (the client's: it removes
 * the key) and only then clipped, so that a key cut in two by the clip is never half left.
 */
export function interpret(
  outcome: Exclude<Outcome, { kind: 'aborted' }>,
  now: number,
  scrub: (text: string) => string = (text) => text,
): Envelope | Failure {
  // A generous head first: an error page can be megabytes, and the clip keeps 200 characters.
  const echo = (text: string) => clip(scrub(text.slice(0, 4096)))
  switch (outcome.kind) {
    case 'timeout':
      return { kind: 'timeout', detail: `timed out after ${formatDuration(outcome.afterMs)}`, retryable: true }
    case 'network':
      return { kind: 'network', detail: `a network error (${echo(outcome.message)})`, retryable: true }
    case 'too-large':
      // The same answer would come back as large: not retried. The limit is a setting.
      return {
        kind: 'too-large',
        status: outcome.status,
        detail: `an answer larger than ${formatBytes(outcome.limitBytes)}, cut off there (GINGR_SYNC_MAX_RESPONSE_MB raises the limit)`,
        retryable: false,
      }
    case 'answer':
      return outcome.status >= 200 && outcome.status < 300 ? interpretBody(outcome, echo) : httpFailure(outcome, now, echo)
  }
}

type Echo = (text: string) => string

function httpFailure(answer: Extract<Outcome, { kind: 'answer' }>, now: number, echo: Echo): Failure {
  const { status } = answer
  const said = isHtml(answer) ? 'an HTML page' : gingrText(textOf(answer.body), echo)
  const inside = [answer.statusText, said && said !== 'an HTML page' ? `"${said}"` : said].filter(Boolean).join(': ')
  const location = status >= 300 && status < 400 ? redirectTarget(answer.headers.get('location')) : ''
  const detail = `HTTP ${status}${inside ? ` (${inside})` : ''}${location}`
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

function interpretBody(answer: Extract<Outcome, { kind: 'answer' }>, echo: Echo): Envelope | Failure {
  const { status, body } = answer
  // A login redirect or a proxy's error page arrives as 200 text/html: retrying will not log in.
  if (isHtml(answer)) return { kind: 'html', status, detail: 'an HTML page instead of JSON', retryable: false }
  let json: unknown
  try {
    json = 'split' in body ? JSON.parse(body.split.skeleton) : JSON.parse(decodeText(body.whole))
  } catch {
    // Most often a body cut off by a dropped connection: worth another attempt.
    return invalidJson(answer)
  }
  // A record that is not JSON (json.ts): the answer is broken, as JSON.parse of the whole said.
  if ('split' in body && !body.split.recordsParse) return invalidJson(answer)
  // JSON.parse keeps the last `data`, the splitter both: no answer of Gingr's has two, so which is meant is unknown.
  if ('split' in body && body.split.duplicateData) {
    return { kind: 'shape', status, detail: 'JSON with `data` twice (which one Gingr meant cannot be told)', retryable: false }
  }
  const envelope = v.safeParse(Envelope, json, { abortEarly: true })
  if (!envelope.success) return shapeFailure(envelope.issues, status, echo)
  return refusal(envelope.output, json, status, echo) ?? envelope.output
}

function shapeFailure(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]], status: number, echo: Echo): Failure {
  const [issue] = issues
  const where = v.getDotPath(issue) ?? 'body'
  return { kind: 'shape', status, detail: `JSON that is not Gingr's envelope (${where}: ${echo(issue.message)})`, retryable: false }
}

/** Gingr's own "no" in a well-formed envelope, or a body without its data; null: a usable answer. */
function refusal(envelope: Envelope, json: unknown, status: number, echo: Echo): Failure | null {
  const { success, error, message } = envelope
  if (success === false || (error !== undefined && error !== null && error !== false && error !== '')) {
    const said = typeof error === 'string' && error.trim() !== '' ? error : message
    const detail = said ? `Gingr answered with an error: "${echo(said)}"` : 'Gingr answered with an error and no message'
    // HTTP 200 with an error is Gingr's considered answer (bad range, bad parameter): not retried.
    return { kind: 'api', status, detail, retryable: false }
  }
  // `{}` (or any envelope without its data) is not "nothing": Gingr sends `[]` for none, so a
  // missing `data` is a broken answer, never an empty window stamped as synced.
  if (!Object.hasOwn(json as object, 'data')) {
    return { kind: 'shape', status, detail: "JSON without Gingr's `data` (an answer that says nothing)", retryable: false }
  }
  return null
}

function invalidJson(answer: Extract<Outcome, { kind: 'answer' }>): Failure {
  const { body } = answer
  const characters = 'split' in body ? body.split.characters : decodeText(body.whole).length
  return { kind: 'invalid-json', status: answer.status, detail: `invalid JSON (${characters} characters)`, retryable: true }
}

/**
 * A usable answer's `data` with each record as `each` made it: a split answer's records were
 * handed to it as they came (the envelope holds their numbers), a whole one's are handed now.
 */
export function recordsOf(envelope: Envelope, answer: Outcome, each: EachRecord): Envelope['data'] {
  const split = answer.kind === 'answer' && 'split' in answer.body ? answer.body.split : null
  const made = split ? (index: unknown) => split.results[index as number] : each
  const data = envelope.data
  if (data === null) return null
  if (Array.isArray(data)) return data.map(made)
  // fromEntries, not assignment: a record keyed `__proto__` stays a record, not a prototype.
  return Object.fromEntries(Object.entries(data).map(([key, record]) => [key, made(record)]))
}

function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/** Where a redirect pointed, without credentials or query (which could hold anything). Never followed. */
function redirectTarget(location: string | null): string {
  if (!location) return ', a redirect without a Location'
  try {
    const target = new URL(location, 'http://gingr.invalid')
    // Decoded, so that a key written as %2D-escapes is still a key to the redaction that follows.
    return `, a redirect (not followed) to ${target.host === 'gingr.invalid' ? '' : `${target.protocol}//${target.host}`}${decodedPath(target.pathname)}`
  } catch {
    return ', a redirect (not followed) to a Location that is not a URL'
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${bytes} bytes`
}

/** A page, not a PHP notice glued before JSON (that one is "invalid JSON", and may pass). */
function isHtml(answer: Extract<Outcome, { kind: 'answer' }>): boolean {
  const type = answer.headers.get('content-type') ?? ''
  if (type.includes('text/html')) return true
  // A split body starts as a JSON object. Of a whole one the head is enough, unless it is all blanks.
  if ('split' in answer.body) return false
  const head = decodeText(answer.body.whole.subarray(0, 4096))
  return HTML_START.test(/\S/.test(head) ? head : decodeText(answer.body.whole))
}

const HTML_START = /^\s*<(!doctype|html)/i

/** An error answer's text (never split: only a successful answer's records go to `each`). */
function textOf(body: Body): string {
  return 'split' in body ? body.split.skeleton : decodeText(body.whole)
}

/** Gingr's own words from a JSON error body (`error` text, else `message`), if there are any. */
function gingrText(body: string, echo: Echo): string | null {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json !== 'object' || json === null) return null
    const error = 'error' in json ? json.error : undefined
    const said = typeof error === 'string' && error.trim() !== '' ? error : 'message' in json ? json.message : undefined
    return typeof said === 'string' && said.trim() !== '' ? echo(said) : null
  } catch {
    return body.trim() === '' ? null : echo(body)
  }
}

/**
 * The three forms of an HTTP-date (RFC 9110 §5.6.7), all in GMT: IMF-fixdate, RFC 850's and
 * asctime's. Date.parse alone takes far more: "1.5" as 5 January 2001 (so no wait at all instead of
 * the backoff), and asctime's form as local time.
 */
const HTTP_DATE =
  /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/

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
