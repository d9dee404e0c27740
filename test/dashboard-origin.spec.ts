import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI_BIN } from '@shardmesh/cli/harness'
import { ControlClient, dashboardUrl } from '@shardmesh/control'
import { waitFor } from '@shardmesh/test-utils'
import { DEBIAN_CHROMIUM, findChromium, launchBrowser, requireBrowser } from './utils/browser.js'
import type { ChildProcess } from 'node:child_process'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'

/** What one attempt of the attacking page got back: a thrown error, or what it could read. */
interface Attempt {
  threw: string | null
  type?: string
  status?: number
  body?: string
}

/** What the attacking page reports: each of its four attempts. */
interface Attacks {
  jobWithToken: Attempt
  jobNoCors: Attempt
  receiptsWithToken: Attempt
  /** the text of the frame a `<form method=post action=.../v1/stop>` was submitted into; null: unreadable */
  stopForm: { readable: string | null }
}

/** The job every attack tries to start (the daemon serves echo, so it would run if allowed). */
const JOB = { workload: 'echo', items: [Buffer.from('x').toString('base64')], shardSize: 1 }

/**
 * A page of another origin that holds the daemon's real token (the worst case: it leaked) and
 * tries what a web page can: a fetch with the bearer header (a CORS preflight first), a simple
 * no-cors POST (text/plain, no header: no preflight), a fetch of the receipts with the header,
 * and a plain form POST to /v1/stop. `window.attacks()` runs them and reports what it could read.
 */
function attackPage (target: string, token: string): string {
  return `<!doctype html>
<meta charset="utf-8"><title>another origin</title>
<iframe name="sink"></iframe>
<form id="stop" method="post" action="${target}/v1/stop" target="sink" enctype="text/plain"><input name="stop" value="now"></form>
<script>
const target = ${JSON.stringify(target)}
const token = ${JSON.stringify(token)}
const job = ${JSON.stringify(JSON.stringify(JOB))}
async function attempt (run) {
  try {
    const res = await run()
    let body
    try { body = await res.text() } catch (err) { body = 'unreadable: ' + err }
    return { threw: null, type: res.type, status: res.status, body }
  } catch (err) {
    return { threw: String(err) }
  }
}
window.attacks = async () => ({
  jobWithToken: await attempt(() => fetch(target + '/v1/jobs', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: job })),
  jobNoCors: await attempt(() => fetch(target + '/v1/jobs', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: job })),
  receiptsWithToken: await attempt(() => fetch(target + '/v1/receipts', { headers: { authorization: 'Bearer ' + token } })),
  stopForm: await new Promise(resolve => {
    const frame = document.querySelector('iframe')
    frame.addEventListener('load', () => {
      let readable = null
      try { readable = frame.contentDocument == null ? null : frame.contentDocument.documentElement.innerText } catch {}
      resolve({ readable })
    }, { once: true })
    document.getElementById('stop').submit()
  })
})
</script>
`
}

describe('the control API against web pages (a real browser, a real daemon)', function () {
  this.timeout(120_000)
  let dir: string
  let daemon: ChildProcess | undefined
  let exited: Promise<unknown> | undefined
  const stdout: string[] = []
  const stderr: string[] = []
  let url: string
  let token: string
  let client: ControlClient
  let attacker: Server | undefined
  let attackerPort: number
  let browser: Browser | undefined

  before(async function () {
    requireBrowser(this)
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-dashboard-origin-'))
    const dataDir = join(dir, 'node')
    daemon = spawn(process.execPath, [CLI_BIN, 'node', 'start', '--json', '--no-gpu', '--workload', 'echo', '--pool-size', '1', '--data-dir', dataDir, '--parent-pid', String(process.pid)], { stdio: ['ignore', 'pipe', 'pipe'] })
    exited = once(daemon, 'exit')
    createInterface({ input: daemon.stdout! }).on('line', line => stdout.push(line))
    createInterface({ input: daemon.stderr! }).on('line', line => stderr.push(line))
    const ready = await waitFor(() => stdout.map(l => JSON.parse(l)).find(e => e.event === 'ready'), `the daemon's ready line (stderr: ${stderr.join('\n')})`, { timeout: 60_000, interval: 50 })
    url = ready.control
    token = (await readFile(join(dataDir, 'control.token'), 'utf8')).trim()
    client = await ControlClient.fromDataDir(dataDir)

    // the other origin: its own port, reached as 127.0.0.1 and as localhost; each page attacks
    // the daemon under the same host name (so only the Origin check stands in the way)
    attacker = createServer((req, res) => {
      const host = req.headers.host?.startsWith('localhost:') === true ? 'localhost' : '127.0.0.1'
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(attackPage(url.replace('127.0.0.1', host), token))
    })
    await new Promise<void>(resolve => attacker!.listen(0, '127.0.0.1', resolve))
    attackerPort = (attacker.address() as AddressInfo).port
    // rebind.test resolves to 127.0.0.1: a DNS rebinding attacker's name, pointed at the daemon
    browser = await launchBrowser({ args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1'] })
  })

  after(async () => {
    await browser?.close()
    if (attacker != null) {
      attacker.closeAllConnections()
      await new Promise(resolve => attacker!.close(resolve))
    }
    if (daemon?.pid != null && daemon.exitCode == null && daemon.signalCode == null) {
      process.kill(daemon.pid, 'SIGTERM')
      // a daemon that does not stop within its grace is killed
      const killer = setTimeout(() => { try { process.kill(daemon!.pid!, 'SIGKILL') } catch {} }, 15_000)
      await exited
      clearTimeout(killer)
    }
    if (dir != null) {
      await rm(dir, { recursive: true, force: true })
    }
  })

  /** Open `pageUrl` in a fresh context; `seen` collects every answer the daemon gave it. */
  async function open (pageUrl: string): Promise<{ page: Page, seen: Array<{ method: string, path: string, status: number }> }> {
    const context = await browser!.newContext()
    const page = await context.newPage()
    const seen: Array<{ method: string, path: string, status: number }> = []
    const daemonPort = new URL(url).port
    page.on('response', res => {
      const u = new URL(res.url())
      if (u.port === daemonPort) {
        seen.push({ method: res.request().method(), path: u.pathname, status: res.status() })
      }
    })
    await page.goto(pageUrl)
    return { page, seen }
  }

  const jobLines = (): string[] => stderr.filter(l => /\b(ran|failed) job [0-9a-f]{12}\b/.test(l))

  for (const host of ['127.0.0.1', 'localhost']) {
    it(`a page on another origin (${host}, another port) holding the token starts no job, reads no receipt and stops nothing`, async () => {
      const before = await client.compute()
      const { page, seen } = await open(`http://${host}:${attackerPort}/`)
      const got: Attacks = await page.evaluate(async () => (globalThis as any).attacks())
      await page.context().close()

      // in the page: nothing readable came back
      // (a): the bearer header needs a CORS preflight, which the API refuses: the fetch fails
      assert.match(got.jobWithToken.threw ?? '', /TypeError/, JSON.stringify(got.jobWithToken))
      // (b): a simple POST is sent without a preflight, but its answer is opaque to the page
      assert.deepEqual(got.jobNoCors, { threw: null, type: 'opaque', status: 0, body: '' })
      // (c): as (a), for the receipts
      assert.match(got.receiptsWithToken.threw ?? '', /TypeError/, JSON.stringify(got.receiptsWithToken))
      // (d): the form's answer lands in a frame of the daemon's origin, which the page cannot read
      assert.equal(got.stopForm.readable, null)

      // what reached the daemon was refused for its origin (the browser delivered (b) and (d));
      // the requests (a) and (c) never left the browser
      assert.deepEqual(seen.filter(s => s.method !== 'OPTIONS' && s.path !== '/favicon.ico').sort((a, b) => a.path.localeCompare(b.path)), [
        { method: 'POST', path: '/v1/jobs', status: 403 },
        { method: 'POST', path: '/v1/stop', status: 403 }
      ])

      // on the daemon: no job ran, and it still runs (the form did not stop it)
      const after = await client.compute()
      assert.equal(after.shardsServed, before.shardsServed)
      assert.deepEqual((await client.jobs()).jobs, [])
      assert.deepEqual(jobLines(), [], stderr.join('\n'))
      const status = await client.status()
      assert.equal(status.pid, daemon!.pid)
      assert.equal(daemon!.exitCode, null)
      assert.ok(!stdout.some(l => l.includes('"stopping"')), stdout.join('\n'))
    })
  }

  it('a page whose name was rebound to the daemon\'s address (DNS rebinding) gets nothing, even with the token', async () => {
    const port = new URL(url).port
    // the dashboard's own address, under the rebound name: not even the page is served
    const { page, seen } = await open(`http://rebind.test:${port}/`)
    // same origin for the browser, so the page reads the answers: each one a refusal of its Host
    const got = await page.evaluate(async (bearer) => {
      const res = await fetch('/v1/receipts', { headers: { authorization: `Bearer ${bearer}` } })
      const job = await fetch('/v1/jobs', { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: '{"workload":"echo","items":["eA=="],"shardSize":1}' })
      return { receipts: { status: res.status, body: await res.text() }, job: { status: job.status, body: await job.text() } }
    }, token)
    await page.context().close()
    assert.ok(seen.length >= 3 && seen.every(s => s.status === 421), JSON.stringify(seen))
    assert.deepEqual(['/', '/v1/receipts', '/v1/jobs'].filter(path => !seen.some(s => s.path === path)), [], JSON.stringify(seen))
    for (const answer of [got.receipts, got.job]) {
      assert.equal(answer.status, 421)
      assert.match(JSON.parse(answer.body).error, /^host "rebind\.test:\d+" is not this control API/)
    }
    assert.deepEqual((await client.jobs()).jobs, [])
    assert.deepEqual(jobLines(), [], stderr.join('\n'))
  })

  it('the login URL\'s own origin, with the token from its fragment, may call the API (127.0.0.1 and localhost)', async () => {
    const login = new URL(dashboardUrl(url, token))
    assert.equal(login.origin, url)
    assert.equal(login.hash, `#token=${token}`)
    for (const origin of [login.origin, login.origin.replace('127.0.0.1', 'localhost')]) {
      const { page } = await open(`${origin}/healthz${login.hash}`)
      const got = await page.evaluate(async () => {
        // the tests' TypeScript has no DOM types: the page's location, as the page sees it
        const bearer = new URLSearchParams((globalThis as any).location.hash.slice(1)).get('token') ?? ''
        const res = await fetch('/v1/status', { headers: { authorization: `Bearer ${bearer}` } })
        return { status: res.status, body: await res.json() as { pid?: number } }
      })
      await page.context().close()
      assert.equal(got.status, 200, `${origin}: ${JSON.stringify(got.body)}`)
      assert.equal(got.body.pid, daemon!.pid)
    }
  })

  it('the evidence above would show a job: one started with the token by a client that is not a browser runs and is logged', async () => {
    const result = await client.runJob(JOB)
    assert.equal(result.items, 1)
    assert.deepEqual((await client.jobs()).jobs.map(j => [j.jobId, j.state]), [[result.jobId, 'ok']])
    await waitFor(() => jobLines().length === 1, `the daemon logs the job (stderr: ${stderr.join('\n')})`, { timeout: 30_000, interval: 50 })
  })
})

describe('the browser the browser specs drive (findChromium)', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-find-chromium-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('takes $SHARDMESH_CHROMIUM when it is an executable, and no other when it is not', async () => {
    const fake = join(dir, 'my-chromium')
    await writeFile(fake, '#!/bin/sh\n')
    await chmod(fake, 0o755)
    assert.deepEqual(findChromium({ SHARDMESH_CHROMIUM: fake, PATH: dir }), { path: fake })
    const missing = join(dir, 'missing')
    assert.deepEqual(findChromium({ SHARDMESH_CHROMIUM: missing, PATH: dir }), { path: null, reason: `SHARDMESH_CHROMIUM=${missing} is not an executable` })
  })

  it('else the Debian package\'s, else chromium on PATH', async function () {
    const onPath = join(dir, 'chromium')
    await writeFile(onPath, '#!/bin/sh\n')
    await chmod(onPath, 0o755)
    const debian = findChromium({ PATH: '' })
    if (debian.path === DEBIAN_CHROMIUM) {
      // installed here: it comes first
      assert.deepEqual(findChromium({ PATH: dir }), { path: DEBIAN_CHROMIUM })
      return
    }
    assert.deepEqual(debian, { path: null, reason: `neither ${DEBIAN_CHROMIUM} nor chromium on PATH` })
    assert.deepEqual(findChromium({ PATH: `/nonexistent:${dir}` }), { path: onPath })
  })
})
