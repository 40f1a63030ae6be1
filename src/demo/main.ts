/**
 * `bun run demo`: gingr-sync's main job, for real, on a machine with nothing set up — a simulated
 * Gingr account, an embedded PostgreSQL (or DEMO_DATABASE_URL's server) and the CLI itself.
 * Exits 0 when every step did what it says, 1 with one sentence when one did not, 130/143 when
 * interrupted; in every case the simulator, the demo database and the embedded server are gone.
 */
import { colors } from 'consola/utils'
import { errorMessage } from '../errors.ts'
import { DemoFailure } from './run-cli.ts'
import { runDemo, say } from './steps.ts'

/** Clean-up never hangs the terminal: past this, the demo exits and says what may be left. */
const CLEANUP_LIMIT_MS = 15_000

const startedAt = performance.now()
const abort = new AbortController()
const undo: Array<() => Promise<void>> = []
const leftovers: string[] = []
let cleaning: Promise<void> | undefined

/** Last in, first out; each undo runs even when an earlier one failed. Runs once, whoever asks. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let next = undo.pop(); next; next = undo.pop()) {
      await next().catch((error: unknown) => void leftovers.push(errorMessage(error)))
    }
  })()
  return cleaning
}

/** Cleans up, says so (or what is left), exits. */
async function finish(code: number, success?: string): Promise<never> {
  setTimeout(() => {
    process.stderr.write(
      'The clean-up did not finish in time: a gingr-sync-demo-* folder in the temporary directory (or a gingr_sync_demo_* database) may be left.\n',
    )
    process.exit(code || 1)
  }, CLEANUP_LIMIT_MS).unref()
  await cleanUp()
  if (leftovers.length > 0) {
    process.stderr.write(`${colors.red(`❌ The clean-up failed: ${leftovers.join('; ')}`)}\n`)
    process.exit(code || 1)
  }
  if (success !== undefined) {
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1)
    process.stdout.write(`\n${colors.bold(colors.green(`✅ Demo complete in ${seconds} s: ${success}`))}\n`)
    say('Cleaned up: the simulator is stopped, the demo database and its PostgreSQL are gone.')
  }
  process.exit(code)
}

// Ctrl-C reaches the CLI child and an embedded server by itself (one process group); SIGTERM may
// reach only the demo. Either way the child is stopped (the abort), then everything is undone.
// Later signals are ignored, so an impatient second Ctrl-C cannot cut the clean-up short.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) return
    abort.abort()
    process.stdout.write(`\n${signal}: stopping the demo and cleaning up…\n`)
    void finish(code)
  })
}

process.stdout.write(
  `${colors.bold('🐾 gingr-sync demo: the real sync against a simulated Gingr account; nothing to set up, nothing left behind.')}\n`,
)
try {
  const { synced, changed, unchanged } = await runDemo({
    databaseUrl: process.env.DEMO_DATABASE_URL || undefined,
    defer: (step) => void undo.push(step),
    signal: abort.signal,
  })
  await finish(0, `${synced} reservations synced, ${changed} changes applied, ${unchanged} unchanged on the rerun.`)
} catch (error) {
  // An interruption is reported, cleaned up and ended by its signal handler. A Ctrl-C kills the
  // children as well (one process group), and their failure can arrive before that handler has run:
  // it gets its turn first.
  await Bun.sleep(50)
  if (!abort.signal.aborted) {
    const reason = error instanceof DemoFailure ? error.message : `Unexpected error: ${errorMessage(error)}`
    process.stderr.write(`${colors.red(`\n❌ The demo failed: ${reason}`)}\n`)
    await finish(1)
  }
}
