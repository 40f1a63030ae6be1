/**
 * `bun run sim -- --port 8080 --reservations 500`: the simulator as a process of its own, for
 * the demo, benchmarks and manual runs. stdout gets two `NAME=value` lines (the base URL and
 * the key, both made up for the simulator), ready for an env file; everything else goes to
 * stderr. SIGINT and SIGTERM stop it cleanly. Drive it with the control API (see control.ts).
 */
import { defineCommand, runMain } from 'citty'
import { createConsola } from 'consola'
import * as v from 'valibot'
import { LARGE_ACCOUNT, startSimulator } from './index.ts'

const Whole = v.optional(v.pipe(v.string(), v.regex(/^\d+$/, 'Expected a whole number'), v.transform(Number)))

const ArgsSchema = v.object({
  port: Whole,
  seed: Whole,
  owners: Whole,
  animals: Whole,
  reservations: Whole,
  'time-zone': v.optional(v.string()),
  today: v.optional(v.string()),
  match: v.optional(v.picklist(['overlap', 'start'])),
  locations: Whole,
  large: v.optional(v.boolean()),
  'get-only': v.optional(v.string()),
  'latency-ms': Whole,
})

const log = createConsola({ stdout: process.stderr })

const main = defineCommand({
  meta: { name: 'sim', description: 'Run the Gingr v1 simulator on 127.0.0.1' },
  args: {
    port: { type: 'string', description: 'Port (default: a free one)' },
    seed: { type: 'string', description: 'Seed of the generated account (default 1)' },
    owners: { type: 'string', description: 'Owners to generate (default 40)' },
    animals: { type: 'string', description: 'Animals to generate (default 60)' },
    reservations: { type: 'string', description: 'Reservations to generate (default 120)' },
    'time-zone': { type: 'string', description: "The facility's IANA zone (default America/Denver)" },
    today: { type: 'string', description: 'YYYY-MM-DD (default: today in the zone)' },
    match: { type: 'string', description: 'How /reservations matches a range: overlap (default) or start' },
    locations: { type: 'string', description: 'Locations the account has (default 1)' },
    large: {
      type: 'boolean',
      description: `The size of a real account: ${LARGE_ACCOUNT.owners} owners, ${LARGE_ACCOUNT.animals} animals (unless --owners/--animals say otherwise)`,
    },
    'get-only': { type: 'string', description: 'Endpoints that refuse POST and answer GET only, comma-separated (e.g. /owners,/animals)' },
    'latency-ms': { type: 'string', description: 'Milliseconds every API request waits before its answer (default 0)' },
  },
  async run({ args }) {
    const parsed = v.safeParse(ArgsSchema, args)
    if (!parsed.success) {
      log.error(v.summarize(parsed.issues))
      process.exitCode = 2
      return
    }
    const options = parsed.output
    const sim = await startSimulator({
      port: options.port,
      seed: options.seed,
      owners: options.owners ?? (options.large ? LARGE_ACCOUNT.owners : undefined),
      animals: options.animals ?? (options.large ? LARGE_ACCOUNT.animals : undefined),
      reservations: options.reservations,
      timeZone: options['time-zone'],
      today: options.today,
      match: options.match,
      locations: options.locations,
      getOnly: options['get-only']
        ?.split(',')
        .map((endpoint) => endpoint.trim())
        .filter(Boolean),
      latencyMs: options['latency-ms'],
    })
    process.stdout.write(`GINGR_BASE_URL=${sim.baseUrl}\nGINGR_API_KEY=${sim.apiKey}\n`)
    log.info(
      `${sim.account.owners.size} owners, ${sim.account.animals.size} animals, ${sim.account.reservations.size} reservations for ${sim.account.today} (${sim.account.timeZone}); control API at ${sim.baseUrl.replace(/\/api\/v1$/, '/_sim')}`,
    )
    const stop = (signal: string): void => {
      log.info(`${signal}: stopping`)
      void sim.stop()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  },
})

await runMain(main)
