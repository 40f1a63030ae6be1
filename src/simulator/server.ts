/**
 * The HTTP side: Bun.serve on 127.0.0.1, the /api/v1 endpoints behind the key check and the
 * fault rules, and the /_sim control API for other processes.
 */
import type { Server } from 'bun'
import type { Account } from './account.ts'
import { handleControl } from './control.ts'
import { distortedBody } from './distort.ts'
import { type Params, ROUTES } from './endpoints.ts'
import { damageBody, endlessBody, type Fault, type FaultBook, replacingAnswer } from './faults.ts'
import { type Answer, errorString, isAnswer, jsonAnswer, payloadBody, warmUp } from './serialize.ts'

export const API_PREFIX = '/api/v1'

export interface SimRequest {
  /** '/reservations', relative to the base URL. */
  endpoint: string
  method: string
  /** Query string and form body merged (the body wins), without `key`. */
  params: Record<string, string>
  keyValid: boolean
  keyInUrl: boolean
  userAgent: string | null
  contentType: string | null
  /** When it arrived, ms since epoch. */
  at: number
  /** The status sent; 0 while unanswered, and for ever when it hung or the client gave up. */
  status: number
}

export interface ServerState {
  account: Account
  faults: FaultBook
  requests: SimRequest[]
  apiKey: string
  /**
   * Endpoints this account answers by GET only (405 to a POST), as Gingr documents `/owners` and
   * `/animals`; empty by default, where both methods are served.
   */
  getOnly: Set<string>
  /** Every API request waits this long before its answer is decided (0: none). */
  latencyMs: number
}

export interface RunningServer {
  origin: string
  stop(): Promise<void>
}

interface Incoming {
  params: Params
  keys: string[]
  keyInUrl: boolean
}

/**
 * PHP fills $_POST only from form encodings: a JSON body is ignored, so a client that posts JSON
 * loses its key and its dates, exactly as it would against Gingr.
 */
async function readIncoming(req: Request, url: URL): Promise<Incoming> {
  const params: Params = {}
  const keys: string[] = []
  const query = url.searchParams
  for (const [name, value] of query) if (name !== 'key') params[name] = value
  const queryKey = query.get('key')
  if (queryKey !== null) keys.push(queryKey)
  const type = (req.headers.get('content-type') ?? '').toLowerCase()
  if (req.method === 'POST' && (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data'))) {
    const form = type.startsWith('multipart/') ? await req.formData() : new URLSearchParams(await req.text())
    for (const [name, value] of form) {
      if (typeof value !== 'string') continue
      if (name === 'key') keys.push(value)
      else params[name] = value
    }
  }
  return { params, keys, keyInUrl: queryKey !== null }
}

/** Resolves true after `ms`, or false as soon as one of the signals aborts; `null` ms = never. */
function wait(ms: number | null, signals: AbortSignal[]): Promise<boolean> {
  const signal = AbortSignal.any(signals)
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const timer = ms === null ? undefined : setTimeout(() => resolve(true), ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve(false)
      },
      { once: true },
    )
  })
}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers })
}

export function startServer(state: ServerState, port: number): RunningServer {
  const stopping = new AbortController()
  const counts = new Map<string, number>()

  /** The normal answer for a known endpoint (after the key check), shaped by a data fault if any. */
  function normalAnswer({ endpoint, method, params, keyValid }: SimRequest, fault: Fault | null): Answer {
    const route = ROUTES[endpoint]
    if (route === undefined) return jsonAnswer(404, errorString(`Unknown endpoint ${endpoint}`))
    const methods = state.getOnly.has(endpoint) ? route.methods.filter((allowed) => allowed === 'GET') : route.methods
    if (!methods.includes(method)) return jsonAnswer(405, errorString(`${method} is not allowed here; use ${methods.join(' or ')}.`))
    if (!keyValid) return jsonAnswer(401, errorString('Invalid API key.'))
    const result = route.handle(params, state.account)
    if (isAnswer(result)) return result
    return jsonAnswer(200, fault === null ? payloadBody(result) : distortedBody(result, fault))
  }

  async function api(req: Request, url: URL): Promise<Response> {
    const endpoint = url.pathname.slice(API_PREFIX.length)
    const incoming = await readIncoming(req, url)
    const record: SimRequest = {
      endpoint,
      method: req.method,
      params: incoming.params,
      // Every copy given must be right: a stale key in the URL is not saved by a good one in the body.
      keyValid: incoming.keys.length > 0 && incoming.keys.every((key) => key === state.apiKey),
      keyInUrl: incoming.keyInUrl,
      userAgent: req.headers.get('user-agent'),
      contentType: req.headers.get('content-type'),
      at: Date.now(),
      status: 0,
    }
    state.requests.push(record)
    const n = (counts.get(endpoint) ?? 0) + 1
    counts.set(endpoint, n)
    const fault = state.faults.take({ endpoint, params: incoming.params, n })

    // A hang ends only when the client gives up or stop() resets the socket; a delay ends early
    // then too. Either way the socket is gone, so what is returned here reaches no one.
    const ended = [req.signal, stopping.signal]
    if (state.latencyMs > 0 && !(await wait(state.latencyMs, ended))) return new Response(null, { status: 503 })
    if (fault?.kind === 'hang') {
      await wait(null, ended)
      return new Response(null, { status: 503 })
    }
    if (fault?.kind === 'delay' && !(await wait(fault.ms, ended))) return new Response(null, { status: 503 })
    if (fault?.kind === 'endless') {
      record.status = 200
      const gone = AbortSignal.any(ended)
      return new Response(endlessBody(gone), { status: 200, headers: { 'content-type': 'application/json' } })
    }

    const replaced = fault === null ? null : replacingAnswer(fault)
    const answer = replaced ?? normalAnswer(record, fault)
    if (fault !== null) answer.body = damageBody(fault, answer.body)
    record.status = answer.status
    return toResponse(answer)
  }

  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port,
    // Bun closes connections idle for 10 s by default, which would end a 'hang' on its own.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      if (url.pathname.startsWith('/_sim/')) return toResponse(await handleControl(req, url, state, `${origin}${API_PREFIX}`))
      if (url.pathname.startsWith(`${API_PREFIX}/`)) return api(req, url)
      return toResponse(jsonAnswer(404, errorString('Not found')))
    },
  })
  const origin = `http://127.0.0.1:${server.port}`
  const { account } = state
  void warmUp([...account.reservations.values()], [...account.owners.values(), ...account.animals.values()], stopping.signal)

  return {
    origin,
    async stop() {
      // Close the sockets first, so that released hangs and delays answer no one.
      const closed = server.stop(true)
      stopping.abort()
      await closed
    },
  }
}
