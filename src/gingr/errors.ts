import type { DateRange } from './chunks.ts'

/**
 * What went wrong, for callers that branch (exit codes, retries at a higher level, the health
 * check): the message is for people, the kind is for code.
 */
export type GingrErrorKind =
  | 'timeout' // no (complete) answer within the per-request timeout
  | 'network' // connection refused, reset, DNS...
  | 'http' // a status that is not 2xx
  | 'api' // HTTP 200 carrying Gingr's own error (`success: false` or `error`)
  | 'html' // a web page (login, proxy) instead of JSON
  | 'invalid-json' // a body that does not parse, e.g. cut off half way
  | 'too-large' // a body past the size limit
  | 'shape' // JSON, but not Gingr's envelope
  | 'deadline' // the whole call ran out of time, or Gingr asked to wait beyond it
  | 'aborted' // the caller's signal fired (SIGTERM)

export interface GingrErrorDetails {
  kind: GingrErrorKind
  endpoint: string
  range?: DateRange
  status?: number
  attempts: number
}

/** Every failure of the Gingr client. Its message is one sentence and never holds the API key. */
export class GingrError extends Error {
  override name = 'GingrError'
  readonly kind: GingrErrorKind
  readonly endpoint: string
  readonly range?: DateRange
  readonly status?: number
  readonly attempts: number

  constructor(message: string, details: GingrErrorDetails) {
    super(message)
    this.kind = details.kind
    this.endpoint = details.endpoint
    this.range = details.range
    this.status = details.status
    this.attempts = details.attempts
  }
}

/** "30 s", "250 ms", "5 min": durations as an operator reads them. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${Number((ms / 1000).toFixed(1))} s`
}
