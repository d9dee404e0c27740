import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { dashboardUrl } from '@shardmesh/control'
import { waitFor } from '@shardmesh/test-utils'
import { launchBrowser, requireBrowser } from './utils/browser.js'
import { items } from './utils/items.js'
import type { Browser, Page } from 'playwright-core'

/** How long the page may take to show what the node knows (it polls every second; the machine may be loaded). */
const PAGE_WAIT = 60_000

// functions given to waitForFunction run in the page, where `document` is `globalThis.document`
// (this project compiles without the DOM's types)

/**
 * The dashboard in a real browser (Debian chromium, driven by playwright-core), against a real
 * cluster of node processes anchoring on the local chain: node 0 requests a job of two workers,
 * the page shows it progress, a worker SIGKILLed mid-job turns dead on the page (its evidence
 * age still counting), the job ends complete and the receipts appear anchored; a worker frozen
 * (SIGSTOP) turns dead though its connection stays open, the job that had only it fails with the
 * reason on the page, and the worker is back once it thaws; when node 0 itself dies, the page says
 * the node stopped answering. Logging in keeps
 * no credential the browser would send by itself, and a wrong token asks to log in again.
 *
 * Screenshots go to `$SHARDMESH_SCREENSHOTS` when set (the README's come from
 * `SHARDMESH_SCREENSHOTS=docs/dashboard npx mocha test/dist/dashboard.spec.js`), else to a
 * temporary directory removed afterwards.
 */
describe('the dashboard, in a real browser, against a real cluster', function () {
  this.timeout(300_000)
  let cluster: LocalCluster
  let browser: Browser
  let page: Page
  let shots: string
  let tmp: string
  let token: string

  before(async function () {
    requireBrowser(this)
    tmp = await mkdtemp(join(tmpdir(), 'shardmesh-dashboard-test-'))
    shots = process.env.SHARDMESH_SCREENSHOTS != null ? resolve(process.env.SHARDMESH_SCREENSHOTS) : join(tmp, 'shots')
    await mkdir(shots, { recursive: true })
    cluster = new LocalCluster({
      nodes: 3,
      solana: 'local',
      // node 0 requests (and offers nothing of the job); nodes 1 and 2 sleep 500 ms an item
      nodeArgs: i => i === 0
        ? ['--workload', 'echo', '--receipt-batch-interval', '500ms', '--challenge-interval', 'off']
        : ['--workload', 'sleep', '--sleep-ms', '500', '--pool-size', '1', '--slots', '2', '--challenge-interval', 'off']
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
    token = (await readFile(join(cluster.nodes[0].dataDir, 'control.token'), 'utf8')).trim()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } })
  })

  after(async () => {
    await browser?.close()
    await cluster?.stop()
    for (const child of [...(cluster?.nodes ?? []).map(n => n.process), cluster?.chain?.process]) {
      assert.ok(child == null || child.exitCode != null || child.signalCode != null, `pid ${child?.pid} still running`)
    }
    if (tmp != null) {
      await rm(tmp, { recursive: true, force: true })
    }
  })

  /** The text of the first element matching `selector`, once there is one. */
  async function text (selector: string): Promise<string> {
    return (await page.locator(selector).first().textContent({ timeout: PAGE_WAIT })) ?? ''
  }

  it('logs in from the URL fragment and keeps no credential a browser sends by itself', async () => {
    const [requester, w1, w2] = cluster.nodes
    await page.goto(dashboardUrl(requester.control.url, token))
    await page.waitForSelector('body[data-state="live"]', { timeout: PAGE_WAIT })
    // the token left the address bar (and the history), and no cookie holds it
    assert.equal(new URL(page.url()).hash, '')
    assert.deepEqual(await page.context().cookies(), [])
    assert.equal(await text('#node-id'), requester.peerId)
    // every peer, each with a measured liveness or the advert that vouches for it, never a bare "online"
    for (const peer of [w1, w2]) {
      const state = await page.locator(`#peers tr[data-peer="${peer.peerId}"]`).getAttribute('data-liveness', { timeout: PAGE_WAIT })
      assert.ok(['alive', 'advert', 'unknown'].includes(state ?? ''), `liveness of a peer never given work: ${state}`)
    }
    for (const cell of await page.locator('#peers tbody tr td:nth-child(2)').allTextContents()) {
      assert.match(cell, /^(this node|alive|suspect|dead|advert|unknown)\b/)
    }
  })

  it('shows a job progress, a worker killed mid-job turn dead, and the job end complete', async () => {
    const [requester, w1, w2] = cluster.nodes
    const job = requester.control.runJob({ workload: 'sleep', items: items(40, 'dashboard'), shardSize: 2, peers: [w1.peerId, w2.peerId], includeSelf: false })
    job.catch(() => {})

    // the page shows it running, shards done and in flight on both workers
    const running = page.locator('#jobs .job[data-state="running"]')
    await page.waitForFunction(() => {
      const el = (globalThis as any).document.querySelector('#jobs .job[data-state="running"]')
      return el != null && Number(el.dataset.shardsDone) >= 2
    }, undefined, { timeout: PAGE_WAIT })
    const jobId = await running.getAttribute('data-job')
    assert.ok(jobId != null && /^[0-9a-f]{32}$/.test(jobId))
    assert.equal(await running.getAttribute('data-shards-total'), '20')
    await page.screenshot({ path: join(shots, 'dashboard-job.jpg'), quality: 80 })

    // a worker dies with shards in flight (the node's own word: the page may lag a poll behind):
    // its heartbeat goes silent, and the page says dead
    const inFlight = (await requester.control.jobs()).jobs.find(j => j.jobId === jobId)?.peers.find(p => p.peerId === w2.peerId)?.inFlight ?? 0
    assert.ok(inFlight > 0, 'the worker holds shards of the job when it dies')
    await cluster.kill(2)
    const dead = page.locator(`#peers tr[data-peer="${w2.peerId}"][data-liveness="dead"]`)
    await dead.waitFor({ timeout: PAGE_WAIT })
    assert.equal(await dead.getAttribute('data-connected'), 'false', 'a killed process has no connection')
    // its evidence keeps ageing on the page between polls, as it does at the node
    const age = async (): Promise<number> => {
      const el = dead.locator('.age').first()
      return Number(await el.getAttribute('data-age')) + Date.now() - Number(await el.getAttribute('data-at'))
    }
    const first = await age()
    await page.waitForFunction(([peer, before]) => {
      const el = (globalThis as any).document.querySelector(`#peers tr[data-peer="${peer}"] .age`)
      return el != null && Number(el.dataset.age) + Date.now() - Number(el.dataset.at) > before + 1500
    }, [w2.peerId, first] as const, { timeout: PAGE_WAIT })
    await page.screenshot({ path: join(shots, 'dashboard-dead-peer.jpg'), quality: 80 })

    // the job still ends complete, on the worker left
    const result = await job
    assert.equal(result.jobId, jobId)
    assert.equal(result.outputs.length, 40)
    const done = page.locator(`#jobs .job[data-job="${jobId}"][data-state="ok"]`)
    await done.waitFor({ timeout: PAGE_WAIT })
    assert.equal(await done.getAttribute('data-shards-done'), '20')
    // the peers the job used, and what each did: the killed one had attempts that failed
    const row = done.locator(`tr[data-peer="${w1.peerId}"]`)
    await row.waitFor({ timeout: PAGE_WAIT })
  })

  it('shows the receipts anchored, with their batch and transaction', async () => {
    const anchored = page.locator('#batches tr[data-anchored="true"]')
    await anchored.first().waitFor({ timeout: PAGE_WAIT })
    const row = page.locator('#receipts tr[data-role="requester"][data-proof="anchored"]').first()
    await row.waitFor({ timeout: PAGE_WAIT })
    // every receipt of the job anchored, as the node's own store says, and so on the page
    await waitFor(async () => (await cluster.nodes[0].control.receipts({ role: 'requester', anchored: true })).total === 20 ? true : undefined,
      'the 20 receipts of the job to be anchored', { timeout: PAGE_WAIT, interval: 250 })
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#receipts tr[data-role="requester"][data-proof="anchored"]').length === 20, undefined, { timeout: PAGE_WAIT })
    // the metric charts have history (receipts stored over the last minutes)
    await page.waitForSelector('svg[data-metric="shardmesh_receipts_stored_total"]:not([data-points="0"])', { timeout: PAGE_WAIT })
    await page.locator('#receipts-section').screenshot({ path: join(shots, 'dashboard-receipts.jpg'), quality: 80 })
  })

  it('shows a frozen worker dead while its connection stays open, the job that had only it failed and why, and the worker back once it thaws', async () => {
    const [requester, w1] = cluster.nodes
    // 20 shards of a second on one worker: seconds of work still in flight when it freezes
    const job = requester.control.runJob({ workload: 'sleep', items: items(40, 'frozen'), shardSize: 2, peers: [w1.peerId], includeSelf: false })
    const failed = assert.rejects(job, /ERR_PEER_UNRESPONSIVE/)
    await page.waitForFunction(() => {
      const el = (globalThis as any).document.querySelector('#jobs .job[data-state="running"]')
      return el != null && Number(el.dataset.shardsDone) >= 1
    }, undefined, { timeout: PAGE_WAIT })
    // the node's own word that the worker holds shards now (the page may lag a poll behind)
    const inFlight = (await requester.control.jobs()).jobs.find(j => j.state === 'running')?.peers.find(p => p.peerId === w1.peerId)?.inFlight ?? 0
    assert.ok(inFlight > 0, 'the worker holds shards of the job when it freezes')
    // SIGSTOP: the process is there and its sockets open, but nothing answers
    process.kill(w1.pid, 'SIGSTOP')
    try {
      const frozen = page.locator(`#peers tr[data-peer="${w1.peerId}"][data-liveness="dead"]`)
      await frozen.waitFor({ timeout: PAGE_WAIT })
      assert.equal(await frozen.getAttribute('data-connected'), 'true', 'a frozen process keeps its connection: only the heartbeat tells')
      // no other worker was allowed: the job fails, and the page says why (after the job's queue
      // timeout: a peer that went silent once is waited for, not dropped at once)
      await failed
      const ended = page.locator('#jobs .job[data-state="error"]').first()
      await ended.waitFor({ timeout: PAGE_WAIT })
      assert.match(await ended.textContent() ?? '', /ERR_PEER_UNRESPONSIVE/)
      await page.screenshot({ path: join(shots, 'dashboard-frozen-peer.jpg'), quality: 80 })
    } finally {
      process.kill(w1.pid, 'SIGCONT')
    }
    // thawed, it speaks again (its next advert outranks the verdict of a peer no longer watched)
    await page.waitForSelector(`#peers tr[data-peer="${w1.peerId}"]:not([data-liveness="dead"]):not([data-liveness="suspect"])`, { timeout: PAGE_WAIT })
  })

  it('asks to log in again when the token is wrong, and shows no data', async () => {
    const other = await browser.newPage()
    try {
      await other.goto(dashboardUrl(cluster.nodes[0].control.url, 'not-the-token'))
      await other.waitForSelector('#login:not([hidden])', { timeout: PAGE_WAIT })
      assert.match(await other.locator('#login-error').textContent() ?? '', /refused this token/)
      assert.equal(await other.locator('#main').isHidden(), true)
      assert.equal(await other.locator('#peers tbody tr').count(), 0)
    } finally {
      await other.close()
    }
  })

  it('says so when the node stops answering, and greys out what it last showed', async () => {
    const [requester] = cluster.nodes
    const shownPeers = await page.locator('#peers tbody tr').count()
    await cluster.kill(0)
    await page.waitForSelector('body[data-state="stale"]', { timeout: PAGE_WAIT })
    assert.match(await page.locator('#freshness').textContent() ?? '', /^the node has not answered for .* what is shown is from /)
    // what it showed stays, marked stale, never passed off as live
    assert.equal(await page.locator('#peers tbody tr').count(), shownPeers)
    assert.equal(await page.locator('#node-id').textContent(), requester.peerId)
  })
})
