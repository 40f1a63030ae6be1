/**
 * DATABASE_URL as operators write it (src/db/url.ts): libpq's and Prisma's forms read into the
 * driver's options, and the URLs that cannot be right refused with a sentence that says how to fix
 * them and never holds the password. That these options really connect is db-connect.test.ts's.
 */
import { describe, expect, test } from 'bun:test'
import { DatabaseUrlError, parseDatabaseUrl, passwordsOf } from '../src/db/url.ts'
import { UsageError } from '../src/errors.ts'

describe('the forms operators have', () => {
  test.each([
    {
      name: 'the plain form',
      url: 'postgresql://tailtown:secret@db.internal:5432/tailtown',
      is: {
        hosts: ['db.internal'],
        ports: [5432],
        database: 'tailtown',
        user: 'tailtown',
        password: 'secret',
        server: 'db.internal:5432/tailtown',
      },
    },
    {
      name: "Prisma's schema and pool parameters",
      url: 'postgresql://u:p@db/tailtown?schema=tailtown_app&connection_limit=5&pool_timeout=10&pgbouncer=true&sslaccept=strict',
      is: { schema: 'tailtown_app', parameters: {}, server: 'db:5432/tailtown' },
    },
    {
      name: 'a socket as ?host= (Prisma, libpq)',
      url: 'postgresql://u:p@localhost/tailtown?host=/run/postgresql',
      is: { hosts: ['/run/postgresql'], ports: [5432], parameters: {}, server: '/run/postgresql:5432/tailtown' },
    },
    {
      name: 'a %2F-encoded socket host',
      url: 'postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres',
      is: { hosts: ['/var/run/postgresql'], user: 'postgres', database: 'postgres', server: '/var/run/postgresql:5432/postgres' },
    },
    {
      name: 'a %2F-encoded socket host with a port',
      url: 'postgres://%2Ftmp:5433/d',
      is: { hosts: ['/tmp'], ports: [5433], server: '/tmp:5433/d' },
    },
    {
      name: 'a percent-encoded password with @ / # ? %',
      url: 'postgres://u:p%40ss%2Fw%23r%3Fd%25@h/d',
      is: { password: 'p@ss/w#r?d%', hosts: ['h'] },
    },
    {
      name: 'several hosts, each with its port',
      url: 'postgres://u:p@h1:5432,h2:5433/t?target_session_attrs=read-write',
      is: { hosts: ['h1', 'h2'], ports: [5432, 5433], server: 'h1:5432,h2:5433/t', driverOptions: { target_session_attrs: 'read-write' } },
    },
    { name: 'an IPv6 address', url: 'postgres://u@[::1]:5433/t', is: { hosts: ['::1'], ports: [5433], server: '::1:5433/t' } },
    { name: 'no host, no database', url: 'postgres://', is: { hosts: ['localhost'], ports: [5432], server: 'localhost:5432' } },
    {
      name: "libpq's user, password, dbname and port as parameters",
      url: 'postgres://h/?user=u&password=p%26w&dbname=d&port=6432',
      is: { user: 'u', password: 'p&w', database: 'd', ports: [6432], parameters: {} },
    },
    {
      name: 'session settings stay settings; the connect timeout is the driver’s',
      url: 'postgres://h/d?options=-c%20statement_timeout%3D5s&application_name=tailtown&connect_timeout=10',
      is: { parameters: { options: '-c statement_timeout=5s', application_name: 'tailtown' }, driverOptions: { connect_timeout: 10 } },
    },
    {
      name: 'prepare=false, for a pooler, as postgres.js reads it',
      url: 'postgres://h/d?prepare=false',
      is: { driverOptions: { prepare: false } },
    },
  ])('$name', ({ url, is }) => {
    expect(parseDatabaseUrl(url)).toMatchObject(is)
  })

  test.each([
    ['', 'disable'],
    ['?sslmode=disable', 'disable'],
    ['?sslmode=allow', 'allow'],
    ['?sslmode=prefer', 'prefer'],
    ['?sslmode=require', 'require'],
    ['?sslmode=verify-ca', 'verify-ca'],
    ['?sslmode=verify-full', 'verify-full'],
    ['?sslrootcert=system', 'verify-full'],
    ['?ssl=true', 'verify-full'],
    ['?ssl=false', 'disable'],
  ])('sslmode from "%s" is %s', (query, mode) => {
    expect(parseDatabaseUrl(`postgres://u:p@h/d${query}`).sslMode).toBe(mode as never)
  })
})

describe('URLs that cannot be right: a UsageError (exit 2) that never holds the password', () => {
  const ENCODE = /must be percent-encoded \(@ as %40, \/ as %2F, \? as %3F, # as %23, % as %25\)\.$/
  test.each([
    ['not postgres', 'mysql://root:Pw-Secret-1@h/d', /^DATABASE_URL is not a postgres:\/\/ URL\.$/, 'Pw-Secret-1'],
    [
      'an unknown sslmode',
      'postgres://u:Pw-Secret-1@h/d?sslmode=requir',
      /^DATABASE_URL's sslmode=requir is not an sslmode: use disable, allow/,
      'Pw-Secret-1',
    ],
    [
      'an empty sslmode is the default, a quoted one is not',
      'postgres://u:Pw-Secret-1@h/d?sslmode="require"',
      /sslmode=\?require\? is not an sslmode/,
      'Pw-Secret-1',
    ],
    ['an unescaped # in the password', 'postgres://u:Pw#Secret-1@h/d', /\(it holds a #\): a character such as @/, 'Secret-1'],
    ['an unescaped @ in the password', 'postgres://u:Pw@Secret-1@h/d', /\(more than one @\)/, 'Secret-1'],
    ['an unescaped / in the password', 'postgres://u:Pw/Secret-1@h/d', /\(an @ after the host\)/, 'Secret-1'],
    ['unescaped @ and / in the password', 'postgres://postgres:p@ss/Secret-1@127.0.0.1:5432/d', /\(an @ after the host\)/, 'Secret-1'],
    [
      'an unescaped ? in the password',
      'postgres://u:Pw?Secret-1@h/d',
      /\(its port is not a number from 1 to 65535\)|\(a query part/,
      'Secret-1',
    ],
    ['an unescaped ? after digits', 'postgres://u:12?Secret-1@h/d', /\(a query part without name=value\)/, 'Secret-1'],
    ['a % that is no escape', 'postgres://u:Pw%Secret-1@h/d', /\(a % that is not a percent-escape\)/, 'Secret-1'],
    ['a port that is no number', 'postgres://u@h:54x2/d', /\(its port is not a number from 1 to 65535\)/, '54x2'],
    ['a port out of range', 'postgres://u@h:65536/d', /\(its port is not a number from 1 to 65535\)/, '65536'],
  ])('%s', (_name, url, says, secret) => {
    const error = refusal(url)
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toMatch(says)
    if (/cannot be read/.test(error.message)) expect(error.message).toMatch(ENCODE)
    expect(error.message).not.toContain(secret)
    expect(error.message).not.toContain('\n')
  })

  test('an sslrootcert file, which the driver would not read, is refused rather than ignored', () => {
    expect(refusal('postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem').message).toMatch(/sslrootcert names a file/)
  })

  test('a socket among several hosts is refused: the driver connects to a socket only alone', () => {
    expect(refusal('postgres://u@h1,%2Frun%2Fpostgresql/d').message).toMatch(/several hosts, one of them a socket/)
  })

  function refusal(url: string): DatabaseUrlError {
    try {
      parseDatabaseUrl(url)
    } catch (error) {
      if (error instanceof DatabaseUrlError) return error
      throw error
    }
    throw new Error(`${url} was accepted`)
  }
})

describe('passwordsOf: every reading of the password, for the scrubbing of every output', () => {
  test.each([
    ['postgres://u:plain-pw@h/d', ['plain-pw']],
    ['postgres://u:p%40ss@h/d', ['p@ss']],
    // Not percent-encoded: read with the last @ ending the credentials, as the operator meant it.
    ['postgres://postgres:p@ss/w#rd@127.0.0.1:5432/d', ['p@ss/w#rd']],
    ['postgres://u:100%@h/d', ['100%']],
    ['postgres://h/d?user=u&password=q%26pw', ['q&pw']],
    ['postgres://u@h/d', []],
  ])('%s', (url, passwords) => {
    expect(passwordsOf(url).sort()).toEqual([...passwords].sort())
  })
})
