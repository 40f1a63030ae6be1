/**
 * A slow link to PostgreSQL: a TCP relay on 127.0.0.1 that holds every chunk it passes on, in
 * either direction, for a fixed time, so that a database on this machine answers as one on
 * another host does. 0.5 ms each way is a 1 ms round trip, a fast LAN.
 *
 * Why not `tc qdisc ... netem delay` on a veth into a network namespace, the usual way: this
 * machine's kernel is built without netem (CONFIG_NET_SCH_NETEM is not set, and no qdisc it has
 * can delay), and netem on the loopback device would slow every other process of the machine. A
 * relay of our own delays only the connections made to it, and leaves nothing behind: it is a
 * child process that exits when its parent's pipe closes, however the parent ended.
 *
 * Timers cannot wait half a millisecond (their floor is 1 ms), so the relay blocks on
 * Atomics.wait, which takes fractions, until each chunk is due: the delay is a floor (the wait
 * oversleeps a little, and the relay's own hop costs a little more). The round trip actually
 * obtained is measured by the bench and printed beside the figures, never assumed.
 *
 *   bun bench/slow-link.ts HOST PORT ONE_WAY_MS   prints the port it listens on, then relays
 */
import { createConnection, createServer, type Socket } from 'node:net'
import { resolve } from 'node:path'

export interface SlowLink {
  /** The relay's port on 127.0.0.1. */
  port: number
  /** The relay's process. */
  pid: number
  /** `url` (a postgres:// URL of the relayed server) through the link. */
  through(url: string): string
  stop(): Promise<void>
}

/** Starts the relay in a process of its own, so that holding a chunk never blocks the bench. */
export async function startSlowLink(target: { host: string; port: number }, oneWayMs: number): Promise<SlowLink> {
  const child = Bun.spawn([process.execPath, resolve(import.meta.path), target.host, String(target.port), String(oneWayMs)], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stop = async () => {
    child.kill('SIGTERM')
    await child.exited
  }
  const reader = child.stdout.getReader()
  let printed = ''
  while (!printed.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) break
    printed += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const port = Number(printed.trim())
  if (!Number.isInteger(port) || port <= 0) {
    await stop()
    const stderr = (await new Response(child.stderr).text()).trim().split('\n').at(-1)
    throw new Error(`The slow link did not start: ${stderr || 'it printed no port'}`)
  }
  return {
    port,
    pid: child.pid,
    through(url) {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(port)
      return parsed.toString()
    },
    stop,
  }
}

const cell = new Int32Array(new SharedArrayBuffer(4))

/** Blocks the process for `ms`, fractions honoured. */
function hold(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms)
}

/**
 * The delay line: every chunk, of every connection and direction, leaves `oneWayMs` after it was
 * read, in the order read (the delay is the same for all, so that is the order they are due).
 * Chunks sent back to back arrive back to back, each late by the delay, not by the delays of
 * those before it. Between two holds the relay goes back to reading, so that a chunk is stamped
 * when it arrives rather than when the one before it left.
 */
class DelayLine {
  private queue: { due: number; send: () => void }[] = []
  private scheduled = false

  constructor(private readonly oneWayMs: number) {}

  pass(send: () => void): void {
    this.queue.push({ due: performance.now() + this.oneWayMs, send })
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  private flush(): void {
    this.scheduled = false
    const head = this.queue.shift()
    if (!head) return
    hold(head.due - performance.now())
    head.send()
    while (this.queue[0] && this.queue[0].due <= performance.now()) this.queue.shift()!.send()
    this.schedule()
  }
}

function relay(from: Socket, to: Socket, line: DelayLine): void {
  from.on('data', (chunk) => line.pass(() => to.write(chunk)))
  from.on('end', () => line.pass(() => to.end()))
  from.on('error', () => to.destroy())
}

function serve(host: string, port: number, oneWayMs: number): void {
  const line = new DelayLine(oneWayMs)
  const server = createServer((client) => {
    const upstream = createConnection({ host, port })
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    relay(client, upstream, line)
    relay(upstream, client, line)
  })
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`)
  })
  // The parent's pipe closes when it ends, whatever the way: the relay goes with it.
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
  process.on('SIGTERM', () => process.exit(0))
}

if (import.meta.main) {
  const [host, port, oneWayMs] = Bun.argv.slice(2)
  const numbers = [Number(port), Number(oneWayMs)]
  if (!host || numbers.some((n) => !Number.isFinite(n) || n < 0)) {
    process.stderr.write('usage: bun bench/slow-link.ts HOST PORT ONE_WAY_MS\n')
    process.exit(2)
  }
  serve(host, numbers[0]!, numbers[1]!)
}
