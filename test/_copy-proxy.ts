/**
 * A TCP proxy between gingr-sync and PostgreSQL that can hold back a COPY's data: the only way to
 * make PostgreSQL refuse a COPY at a chosen point of the stream. A cancel sent from outside at a
 * guessed moment lands wherever the race puts it; here the test decides:
 * - `copy-done`: nothing of the COPY's data reaches PostgreSQL until the client has sent all of it
 *   (CopyDone) and the test releases it. A cancel sent in between is acted on while PostgreSQL
 *   reads the rows (it defers cancels while it waits for a COPY message), so its error arrives
 *   after the client's last chunk: the case postgres.js 3.4.9 never settled (porsager/postgres#1173).
 * - `bytes`: `bytes` of COPY data pass, then the client's socket is no longer read, so it is still
 *   streaming (once the kernel's buffers are full) when PostgreSQL refuses.
 * It speaks just enough of the protocol (v3, no TLS) to find message boundaries.
 */
import net from 'node:net'

export type Hold = { until: 'copy-done' } | { until: 'bytes'; bytes: number }

export interface CopyProxy {
  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string
  /**
   * Arms the proxy for the next COPY data any connection sends; resolves once that connection is
   * held, with `release()` and the message types the client sent from then on (`d` data,
   * `c` done, `f` fail: how the client's COPY ended).
   */
  hold(hold: Hold): Promise<Held>
  close(): Promise<void>
}

export interface Held {
  release(): void
  /** Message types the held connection sent from its first COPY data on. */
  sent: string[]
}

interface Armed {
  hold: Hold
  resolve: (held: Held) => void
}

/** A connection whose COPY is being held: what is queued, what passed, how it went on. */
interface Holding extends Armed {
  queue: Buffer[]
  forwarded: number
  fired: boolean
  released: boolean
  sent: string[]
}

const COPY_DATA = 0x64
const COPY_DONE = 0x63
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

export async function startCopyProxy(target: { host: string; port: number }): Promise<CopyProxy> {
  let armed: Armed | null = null
  const sockets = new Set<net.Socket>()

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    upstream.on('data', (data) => client.write(data))
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.end())
    upstream.on('close', () => client.end())

    let pending: Buffer = Buffer.alloc(0)
    let startup = true
    let holding: Holding | null = null

    const fire = (state: Holding) => {
      state.fired = true
      state.resolve({
        sent: state.sent,
        release: () => {
          state.released = true
          for (const queued of state.queue) upstream.write(queued)
          state.queue = []
          client.resume()
        },
      })
    }

    const onMessage = (message: Buffer) => {
      const type = message[0] ?? 0
      // A connection's next COPY may be held again, once the one before was released.
      if ((holding === null || holding.released) && armed !== null && type === COPY_DATA) {
        holding = { ...armed, queue: [], forwarded: 0, fired: false, released: false, sent: [] }
        armed = null
      }
      if (holding === null) {
        upstream.write(message)
        return
      }
      holding.sent.push(String.fromCharCode(type))
      if (holding.released) {
        upstream.write(message)
      } else if (holding.hold.until === 'copy-done') {
        holding.queue.push(message)
        if (type === COPY_DONE) fire(holding)
      } else {
        upstream.write(message)
        holding.forwarded += message.length
        if (!holding.fired && holding.forwarded >= holding.hold.bytes) {
          client.pause()
          fire(holding)
        }
      }
    }

    client.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      for (;;) {
        if (startup) {
          if (pending.length < 8) return
          const length = pending.readInt32BE(0)
          if (pending.length < length) return
          const code = pending.readInt32BE(4)
          upstream.write(pending.subarray(0, length))
          pending = pending.subarray(length)
          // An SSL or GSS request is answered with one byte and followed by the real startup message.
          startup = code === SSL_REQUEST || code === GSSENC_REQUEST
          continue
        }
        if (pending.length < 5) return
        const length = 1 + pending.readInt32BE(1)
        if (pending.length < length) return
        const message = pending.subarray(0, length)
        pending = pending.subarray(length)
        onMessage(Buffer.from(message))
      }
    })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the COPY proxy has no port')

  return {
    url(url) {
      const parsed = new URL(url)
      parsed.hostname = '127.0.0.1'
      parsed.port = String(address.port)
      return parsed.toString()
    },
    hold(hold) {
      if (armed !== null) throw new Error('the COPY proxy is armed already')
      return new Promise<Held>((resolve) => (armed = { hold, resolve }))
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
