import { defineCommand } from 'citty'
import { ExitCode } from '../errors.ts'
import { writeResult } from '../output.ts'
import { redact } from '../secrets.ts'
import { type Check, type DoctorReport, runDoctor } from '../sync/doctor.ts'
import { commonArgs, prepare } from './_shared.ts'

const MARKS = { pass: '✓', fail: '✗', skip: '—' } as const

export default defineCommand({
  meta: { name: 'doctor', description: "Check the settings, the database, its schema and every enabled tenant's Gingr account" },
  args: commonArgs,
  async run({ args }) {
    const { settings } = prepare(args)
    const report = await runDoctor({
      settings,
      envFile: args['env-file'],
      configPath: args.config ?? (settings.env.GINGR_SYNC_CONFIG || undefined),
    })
    // The report is the command's result, so it goes to stdout; redact() is the last guard for secrets.
    const text = args.json ? JSON.stringify(report) : render(report)
    await writeResult(`${redact(text)}\n`)
    return report.ok ? ExitCode.Ok : ExitCode.Failed
  },
})

function render(report: DoctorReport): string {
  const lines = report.checks.flatMap(renderCheck)
  const count = (state: Check['state']) => report.checks.filter((c) => c.state === state).length
  const failed = count('fail')
  const skipped = count('skip')
  lines.push('')
  lines.push(
    failed === 0
      ? `All ${report.checks.length} checks passed.`
      : `${failed} of ${report.checks.length} checks failed${skipped > 0 ? `, ${skipped} skipped` : ''}.`,
  )
  return lines.join('\n')
}

function renderCheck(check: Check): string[] {
  const mark = MARKS[check.state]
  if (check.state === 'skip') return [`${mark} ${check.name}: skipped (${check.detail})`]
  const line = `${mark} ${check.name}: ${check.detail}`
  return check.fix ? [line, `    → ${check.fix}`] : [line]
}
