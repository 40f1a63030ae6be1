import { defineCommand } from 'citty'
import { requireDatabaseUrl } from '../config.ts'
import { migrate } from '../db/migrate.ts'
import { ExitCode } from '../errors.ts'
import { writeResult } from '../output.ts'
import { commonArgs, openDatabase, prepare } from './_shared.ts'

export default defineCommand({
  meta: { name: 'migrate', description: 'Create or complete the schema the sync needs (safe to run again)' },
  args: commonArgs,
  async run({ args }) {
    const { log, settings } = prepare(args)
    const { sql, explain } = openDatabase(requireDatabaseUrl(settings))
    try {
      const { created } = await migrate(sql).catch(async (error: unknown) => {
        throw await explain(error)
      })
      if (created.length === 0) log.info('✅ The schema is complete: nothing to do.')
      else log.info(`✅ Created ${created.length} database objects: ${created.join(', ')}`)
      if (args.json) await writeResult(`${JSON.stringify({ ok: true, created })}\n`)
      return ExitCode.Ok
    } finally {
      await sql.end({ timeout: 5 })
    }
  },
})
