// The shardmesh node dashboard: one page, no build step, no third-party code. It reads the
// node's control API with the bearer token it was given in the login URL's fragment (kept in
// sessionStorage for this tab, sent as an Authorization header, never as a cookie), and renders
// everything with DOM calls that set text: nothing a peer sends is ever parsed as HTML.

const TOKEN_KEY = 'shardmesh.control.token'
/** the page polls the node this often (ms): a peer that goes silent is suspect within 0.7 s and dead within 1.6 s */
const POLL = 1000
/** receipts and metrics, which change more slowly and cost more to list */
const SLOW_POLL = 2000
/** how much metric history the charts keep (ms) */
const HISTORY = 5 * 60 * 1000
/** the data shown is called stale (and the page says so) after this long without an answer (ms) */
const STALE_AFTER = 3000
const RECEIPTS_SHOWN = 50

const $ = (id) => document.getElementById(id)

/** An element with attributes (`data-*`, `class`, `title`, `href`...) and children (strings become text). */
function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    // false leaves a plain attribute out, but is said in a data attribute (`data-connected="false"`)
    if (v == null || (v === false && !k.startsWith('data-'))) continue
    if (k === 'class') el.className = v
    else el.setAttribute(k, String(v))
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

function svg (tag, attrs = {}) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v))
  return el
}

const badge = (state, text = state) => h('span', { class: `badge ${state}` }, text)
const short = (id) => id == null || id === '' ? '-' : id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
const idCell = (id) => h('td', { class: 'id', title: id }, short(id))

function seconds (ms) {
  if (ms == null || !Number.isFinite(ms)) return '-'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor(ms % 60_000 / 1000)} s`
  return `${(ms / 3_600_000).toFixed(1)} h`
}

function rate (n) {
  if (!Number.isFinite(n)) return '-'
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)
}

function count (n) {
  return Number.isFinite(n) ? String(Math.round(n)) : '-'
}

function bytes (n) {
  if (!Number.isFinite(n)) return '-'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

/** An age that keeps counting between polls: `ageMs` at `fetchedAt` (this browser's clock), shown now. */
function liveAge (ageMs, fetchedAt) {
  return h('span', { class: 'age', 'data-age': ageMs, 'data-at': fetchedAt }, seconds(ageMs))
}

function tickAges () {
  const now = Date.now()
  for (const el of document.querySelectorAll('.age')) {
    const age = Number(el.dataset.age)
    if (Number.isFinite(age)) el.textContent = seconds(age + now - Number(el.dataset.at))
  }
  renderFreshness(now)
}

// --- the token ------------------------------------------------------------------------------

function takeTokenFromFragment () {
  const params = new URLSearchParams(location.hash.slice(1))
  const token = params.get('token')
  if (token != null && token !== '') {
    sessionStorage.setItem(TOKEN_KEY, token)
  }
  if (location.hash !== '') {
    // out of the address bar and the history: the URL is not worth copying once used
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

class Unauthorized extends Error {}

async function api (path) {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? ''
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' })
  if (res.status === 401) throw new Unauthorized('the node refused the token')
  if (!res.ok) {
    let message = `${res.status}`
    try { message = `${res.status}: ${(await res.json()).error}` } catch {}
    throw new Error(`${path}: ${message}`)
  }
  return res.json()
}

// --- state ----------------------------------------------------------------------------------

const state = {
  /** when each poll loop last got every answer it asks for (this browser's clock) */
  ok: {},
  /** the oldest of those: what the page as a whole is as fresh as */
  lastOk: 0,
  lastError: null,
  status: null,
  compute: null,
  peers: null,
  jobs: null,
  receipts: null,
  batches: null,
  fetchedAt: 0,
  /** the peer rows of the last poll, and the peers that have left the table since (`trackGone`) */
  lastRows: new Map(),
  gone: new Map(),
  /** metric samples: [{ at, values: Map(key -> number) }] */
  samples: []
}

function showLogin (message) {
  document.body.dataset.state = 'login'
  $('main').hidden = true
  $('login').hidden = false
  $('freshness').textContent = 'not logged in'
  const err = $('login-error')
  err.hidden = message == null
  err.textContent = message ?? ''
}

function renderFreshness (now) {
  const el = $('freshness')
  if (document.body.dataset.state === 'login' || state.lastOk === 0) return
  const silent = now - state.lastOk
  if (silent > STALE_AFTER) {
    document.body.dataset.state = 'stale'
    el.textContent = `the node has not answered for ${seconds(silent)} (${state.lastError ?? 'no answer'}): what is shown is from ${new Date(state.lastOk).toLocaleTimeString()}`
  } else {
    document.body.dataset.state = 'live'
    el.textContent = `live · updated ${seconds(silent)} ago`
  }
}

// --- this node ------------------------------------------------------------------------------

function fact (dl, name, ...value) {
  dl.append(h('dt', {}, name), h('dd', {}, ...value))
}

function renderNode () {
  const s = state.status
  const c = state.compute
  if (s == null) return
  $('node-id').textContent = s.peerId
  document.title = `shardmesh ${short(s.peerId)}`
  const dl = $('node-facts')
  dl.replaceChildren()
  fact(dl, 'peer id', h('span', { class: 'mono' }, s.peerId))
  fact(dl, 'solana address', h('span', { class: 'mono' }, s.solanaAddress))
  fact(dl, 'uptime', liveAge(s.uptimeMs, state.fetchedAt))
  fact(dl, 'memory (RSS)', bytes(s.rssBytes))
  fact(dl, 'mesh', `${s.join?.state ?? '-'} · ${s.connectedPeers} connected`)
  fact(dl, 'listening', h('span', { class: 'mono' }, (s.addrs ?? []).slice(0, 3).join('  ')))
  if (c != null) {
    fact(dl, 'worker', `${c.active} of ${c.slots} slots busy, ${c.queued} queued · ${c.shardsServed} shards served, ${c.shardsFailed} failed`)
    fact(dl, 'offers', c.offered.length === 0 ? 'nothing' : c.offered.join(', '))
  }
  const chain = s.solana
  fact(dl, 'receipts', chain == null ? 'stored, not anchored (no chain)' : `anchored on ${chain.rpc}`)
}

/** One line on top: what a glance should tell (peers by liveness, jobs running, receipts waiting). */
function renderSummary () {
  const el = $('summary')
  const self = state.status?.peerId
  const peers = (state.peers?.peers ?? []).filter(p => p.peerId !== self)
  const by = new Map()
  for (const p of peers) {
    const s = p.trust?.liveness.state ?? 'unknown'
    by.set(s, (by.get(s) ?? 0) + 1)
  }
  const jobs = state.jobs?.jobs ?? []
  const running = jobs.filter(j => j.state === 'running' || j.state === 'placing').length
  const parts = [h('span', {}, h('b', {}, peers.length), ` peers: `,
    ['alive', 'suspect', 'dead', 'advert', 'unknown'].filter(s => by.has(s)).map(s => [badge(s, `${by.get(s)} ${s}`), ' '])),
  h('span', {}, h('b', {}, running), ` jobs running, ${jobs.length - running} finished`)]
  const r = state.receipts?.stats
  if (r?.enabled) {
    parts.push(h('span', {}, h('b', {}, r.receipts + r.workerReceipts), ` receipts, ${r.anchored} anchored`))
  }
  el.replaceChildren(...parts)
}

// --- peers ----------------------------------------------------------------------------------

function throughputCell (t) {
  if (t == null || t.workloads.length === 0) return h('td', { class: 'muted' }, '-')
  return h('td', { class: 'wrap' }, t.workloads.map(w => h('div', { title: w.reason },
    `${w.workload} `,
    w.claimed > 0 ? `${rate(w.claimedPerSlot)}/s claimed` : 'no claim',
    w.measured != null ? ` · ${rate(w.measured.itemsPerSec)}/s measured${w.measured.source === 'self' ? '' : ' (attested)'} ` : ' ',
    badge(w.status))))
}

function gpuCell (p) {
  const g = p.trust?.gpus
  const count = g?.count ?? p.hardware?.gpus?.length ?? 0
  if (count === 0) return h('td', { class: 'muted' }, 'none')
  const models = g?.models ?? p.hardware.gpus.map(x => x.model)
  return h('td', { title: g?.reason ?? '' }, `${count}× ${[...new Set(models)].join(', ')} `, g == null ? '' : badge(g.status))
}

function scoreCell (t) {
  if (t == null) return h('td', { class: 'muted' }, '-')
  const s = t.score
  const reasons = s.reasons.length === 0 ? 'no evidence yet' : s.reasons.join('; ')
  return h('td', { class: 'wrap' },
    h('b', {}, s.value.toFixed(2)),
    s.probation ? [' ', badge('suspect', 'probation')] : '',
    h('div', { class: 'muted' }, reasons))
}

/**
 * Peers that left the node's table (their advert expired: a dead or frozen peer stops renewing it)
 * stay on the page for a while, marked so, with what was last known of them and its age still
 * counting: a peer that died never just vanishes from view.
 */
const GONE_KEPT = 10 * 60 * 1000
const GONE_MAX = 50

function trackGone (rows) {
  const now = Date.now()
  const present = new Set(rows.map(p => p.peerId))
  for (const [id, g] of state.gone) {
    if (present.has(id) || now - g.goneAt > GONE_KEPT) state.gone.delete(id)
  }
  for (const [id, last] of state.lastRows) {
    if (!present.has(id) && !state.gone.has(id)) state.gone.set(id, { row: last.row, fetchedAt: last.fetchedAt, goneAt: now })
  }
  while (state.gone.size > GONE_MAX) state.gone.delete(state.gone.keys().next().value)
  state.lastRows = new Map(rows.map(p => [p.peerId, { row: p, fetchedAt: state.fetchedAt }]))
}

function renderPeers () {
  const body = $('peers').tBodies[0]
  const rows = state.peers?.peers ?? []
  const self = state.status?.peerId
  trackGone(rows)
  $('peers-count').textContent = `${rows.length}${state.gone.size > 0 ? `, and ${state.gone.size} whose advert expired` : ''}`
  const gone = [...state.gone.values()].map(g => peerRow(g.row, g.fetchedAt, self, g.goneAt))
  body.replaceChildren(...rows.map(p => peerRow(p, state.fetchedAt, self)), ...gone)
}

/** One peer's row; `goneAt`: when it left the table (its last known state is shown, ageing). */
function peerRow (p, fetchedAt, self, goneAt) {
  const t = p.trust
  const isSelf = p.peerId === self
  const live = isSelf ? { state: 'self', evidence: 'none', ageMs: null } : t?.liveness ?? { state: 'unknown', evidence: 'none', ageMs: null }
  const slots = t == null ? `${p.totalSlots}` : `${t.slots.claimed} / ${t.slots.earned.length === 0 ? '-' : t.slots.earned.map(e => `${e.window} (${e.workload})`).join(', ')}`
  return h('tr', { 'data-peer': p.peerId, 'data-liveness': live.state, 'data-connected': goneAt == null ? p.connected : null, 'data-gone': goneAt != null, class: goneAt == null ? null : 'gone' },
    idCell(p.peerId),
    h('td', {}, isSelf ? badge('own', 'this node') : badge(live.state), live.rttMs != null ? h('span', { class: 'muted' }, ` rtt ${rate(live.rttMs)} ms`) : ''),
    h('td', {}, live.ageMs == null ? '-' : [liveAge(live.ageMs, fetchedAt), h('span', { class: 'muted' }, ` (${live.evidence})`)]),
    h('td', {}, goneAt != null ? h('span', { class: 'muted' }, `left the table ${new Date(goneAt).toLocaleTimeString()}`) : p.connected == null ? '-' : p.connected ? 'open' : h('span', { class: 'warn' }, 'none')),
    scoreCell(t),
    throughputCell(t),
    gpuCell(p),
    h('td', {}, slots),
    h('td', {}, liveAge(p.ageMs, fetchedAt), goneAt == null ? '' : [' ', badge('dead', 'expired')]))
}

// --- jobs -----------------------------------------------------------------------------------

/** A progress bar's fill (its width set through the CSSOM: the page's CSP allows no inline style). */
function bar (pct) {
  const fill = h('div')
  fill.style.width = `${pct}%`
  return fill
}

function renderJob (j) {
  const p = j.progress
  const pct = p.shardsTotal > 0 ? Math.round(100 * p.shardsDone / p.shardsTotal) : 0
  const elapsed = (j.finishedAt ?? Date.now()) - j.startedAt
  const peers = h('table', {},
    h('thead', {}, h('tr', {}, ['peer', 'in flight', 'shards', 'items', 'attempts', 'failures', 'window', 'items/s', ''].map(x => h('th', {}, x)))),
    h('tbody', {}, j.peers.map(r => h('tr', { 'data-peer': r.peerId },
      idCell(r.peerId), h('td', {}, r.inFlight), h('td', {}, r.shards), h('td', {}, r.items), h('td', {}, r.attempts),
      h('td', { class: r.failures > 0 ? 'warn' : '' }, r.failures), h('td', {}, r.window), h('td', {}, rate(r.itemsPerSec)),
      h('td', {}, r.local ? 'this node' : r.banned ? badge('dead', 'dropped') : '')))))
  const notes = []
  for (const d of j.disputes ?? []) {
    notes.push(h('li', { class: 'bad' }, `shard ${d.shard} disputed: ${d.losers.map(short).join(', ')} outvoted by ${d.winners.map(short).join(', ')}`))
  }
  for (const e of j.placement?.excluded ?? []) {
    notes.push(h('li', { class: 'muted' }, `not used: ${short(e.peerId)} ${e.reason}${e.detail ? ` (${e.detail})` : ''}`))
  }
  if (j.error != null) notes.unshift(h('li', { class: 'bad' }, `${j.error.code}: ${j.error.message}`))
  const s = j.shards
  return h('div', { class: 'job', 'data-job': j.jobId, 'data-state': j.state, 'data-shards-done': p.shardsDone, 'data-shards-total': p.shardsTotal },
    h('div', { class: 'job-head' },
      badge(j.state), h('b', { class: 'mono', title: j.jobId }, short(j.jobId)), h('span', {}, j.workload),
      h('span', { class: 'muted' }, `verification ${j.verification}`),
      h('span', {}, `${p.shardsDone} / ${p.shardsTotal} shards · ${p.itemsDone} / ${p.itemsTotal} items`),
      h('span', {}, `${rate(p.itemsPerSec)} items/s`),
      h('span', { class: 'muted' }, `${seconds(elapsed)}${j.finishedAt == null ? '' : ` · ended ${new Date(j.finishedAt).toLocaleTimeString()}`}`)),
    h('div', { class: 'bar' }, bar(pct)),
    s == null ? '' : h('div', { class: 'muted' }, `${s.inFlight} in flight · ${s.attempts} attempts · ${s.retries} retried · ${s.hedged} hedged · ${s.checked} checked · ${s.disputed} disputed`),
    h('div', { class: 'scroll' }, peers),
    notes.length > 0 ? h('ul', {}, notes) : '')
}

function renderJobs () {
  const jobs = state.jobs?.jobs ?? []
  const running = jobs.filter(j => j.state === 'running' || j.state === 'placing').length
  $('jobs-count').textContent = `${running} running, ${jobs.length - running} finished`
  $('jobs').replaceChildren(...(jobs.length === 0 ? [h('p', { class: 'muted' }, 'No job requested from this node yet (shardmesh job run --data-dir DIR …).')] : jobs.map(renderJob)))
}

// --- receipts -------------------------------------------------------------------------------

function explorerCluster () {
  return state.status?.solana?.explorerCluster ?? null
}

/** A transaction signature, linked to the explorer when the chain is a public cluster. */
function signatureLink (sig) {
  const cluster = explorerCluster()
  if (cluster == null) return h('span', { class: 'mono', title: sig }, short(sig))
  const suffix = cluster === 'mainnet-beta' ? '' : `?cluster=${cluster}`
  return h('a', { class: 'mono', title: sig, href: `https://explorer.solana.com/tx/${encodeURIComponent(sig)}${suffix}`, target: '_blank', rel: 'noopener noreferrer' }, short(sig))
}

/** Where a receipt's proof stands, for the role this node holds it in. */
function proofState (r) {
  if (r.anchor != null) return { state: 'anchored', text: r.anchor.by === 'worker' && r.role === 'worker' ? 'anchored (own)' : 'anchored' }
  if (r.batch != null) return { state: 'sealed', text: 'sealed, anchoring' }
  return r.role === 'worker' ? { state: 'pending', text: 'awaiting proof' } : { state: 'pending', text: 'waiting for a batch' }
}

function renderReceipts () {
  const r = state.receipts
  const dl = $('receipt-facts')
  dl.replaceChildren()
  if (r != null) {
    const s = r.stats
    if (!s.enabled) {
      fact(dl, 'store', 'receipts are not stored on this node')
    } else {
      fact(dl, 'as requester', `${s.receipts} countersigned`)
      fact(dl, 'as worker', `${s.workerReceipts} earned`)
      fact(dl, 'batched', `${s.batched} in ${s.batches} batches`)
      fact(dl, 'anchored', `${s.anchored} in ${s.anchoredBatches} batches`)
      fact(dl, 'signed, not yet back', `${s.signedPending}`)
      fact(dl, 'anchor fees', s.anchor == null ? '-' : `${s.anchor.feesLamports} lamports · ${s.anchor.failures} failures${s.anchor.lastError ? ` (last: ${s.anchor.lastError})` : ''}`)
    }
  }
  const batches = (state.batches?.batches ?? []).slice().sort((a, b) => b.sealedAt - a.sealedAt)
  $('batches-count').textContent = `${batches.length} newest of ${state.batches?.total ?? batches.length}`
  $('batches').tBodies[0].replaceChildren(...batches.slice(0, RECEIPTS_SHOWN).map(b => h('tr', { 'data-root': b.root, 'data-anchored': b.anchor != null },
    idCell(b.root), h('td', {}, b.count), h('td', {}, new Date(b.sealedAt).toLocaleTimeString()),
    h('td', {}, b.anchor == null ? badge('sealed', 'not yet') : [badge('anchored'), ' ', signatureLink(b.anchor.signature)]),
    h('td', {}, b.anchor?.slot ?? '-'), h('td', {}, b.anchor?.fee ?? '-'))))
  const rows = r?.receipts ?? []
  $('receipts-count').textContent = r == null ? '' : `${rows.length} of ${r.total}`
  $('receipts').tBodies[0].replaceChildren(...rows.map(x => {
    const proof = proofState(x)
    return h('tr', { 'data-receipt': x.id, 'data-role': x.role, 'data-proof': proof.state },
      idCell(x.id), h('td', {}, x.role), h('td', { class: 'mono' }, `${short(x.jobId)} #${x.shardIndex}`), h('td', {}, x.workload),
      idCell(x.worker), idCell(x.requester),
      h('td', {}, badge(proof.state, proof.text), x.anchor == null ? '' : [' ', signatureLink(x.anchor.signature)]),
      h('td', {}, new Date(x.storedAt).toLocaleTimeString()))
  }))
}

// --- metrics --------------------------------------------------------------------------------

/** Prometheus text exposition: `name{labels} value` lines, summed per chart key below. */
function parseMetrics (text) {
  const out = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m == null) continue
    const value = Number(m[3])
    if (Number.isFinite(value)) out.push({ name: m[1], labels: m[2] ?? '', value })
  }
  return out
}

/** What the charts show: a sum of series (a `labels` substring picks some), as a gauge or a rate per second. */
const CHARTS = [
  { key: 'shards', title: 'shards served / s', metric: 'shardmesh_compute_shards_served_total', kind: 'rate' },
  { key: 'jobs', title: 'jobs requested / s', metric: 'shardmesh_compute_jobs_total', kind: 'rate' },
  { key: 'receipts', title: 'receipts stored / s', metric: 'shardmesh_receipts_stored_total', kind: 'rate' },
  { key: 'unanchored', title: 'receipts waiting for an anchor', metric: 'shardmesh_receipts_unanchored', kind: 'gauge', format: count },
  { key: 'peers', title: 'peers in the table', metric: 'shardmesh_capabilities_peers', kind: 'gauge', format: count },
  { key: 'connections', title: 'open connections', metric: 'libp2p_connection_manager_connections', labels: ['"inbound"', '"outbound"'], kind: 'gauge', format: count },
  { key: 'traffic', title: 'encrypted frames sent / s', metric: 'libp2p_noise_encrypted_packets_total', kind: 'rate' },
  { key: 'rss', title: 'memory (RSS)', metric: 'nodejs_memory_usage_bytes', labels: ['memory="rss"'], kind: 'gauge', format: bytes }
]

function sampleMetrics (text, at) {
  const series = parseMetrics(text)
  const values = new Map()
  for (const c of CHARTS) {
    const matching = series.filter(s => s.name === c.metric && (c.labels == null || c.labels.some(l => s.labels.includes(l))))
    if (matching.length > 0) values.set(c.key, matching.reduce((sum, s) => sum + s.value, 0))
  }
  state.samples.push({ at, values })
  while (state.samples.length > 0 && state.samples[0].at < at - HISTORY) state.samples.shift()
}

/** The points of one chart: gauges as sampled, counters as the rate between two samples (a restart's reset is skipped). */
function points (c) {
  const pts = []
  for (let i = 0; i < state.samples.length; i++) {
    const s = state.samples[i]
    const v = s.values.get(c.key)
    if (v == null) continue
    if (c.kind === 'gauge') {
      pts.push([s.at, v])
    } else if (i > 0) {
      const prev = state.samples[i - 1].values.get(c.key)
      const dt = (s.at - state.samples[i - 1].at) / 1000
      if (prev != null && v >= prev && dt > 0) pts.push([s.at, (v - prev) / dt])
    }
  }
  return pts
}

function renderCharts () {
  const now = Date.now()
  const W = 320
  const H = 90
  const charts = CHARTS.map(c => {
    const pts = points(c)
    const format = c.format ?? rate
    const max = Math.max(1e-9, ...pts.map(p => p[1]))
    const x = (t) => (W * (1 - (now - t) / HISTORY)).toFixed(1)
    const y = (v) => (H - 14 - (H - 24) * v / max).toFixed(1)
    const box = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', 'data-metric': c.metric, 'data-points': pts.length, role: 'img', 'aria-label': c.title })
    box.append(svg('line', { class: 'axis', x1: 0, x2: W, y1: H - 14, y2: H - 14 }))
    if (pts.length > 1) {
      const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0])},${y(p[1])}`).join(' ')
      box.append(svg('path', { class: 'area', d: `${d} L${x(pts[pts.length - 1][0])},${H - 14} L${x(pts[0][0])},${H - 14} Z` }))
      box.append(svg('path', { class: 'line', d }))
    }
    const top = svg('text', { x: 2, y: 9 })
    top.textContent = `max ${format(pts.length === 0 ? NaN : max)}`
    const left = svg('text', { x: 2, y: H - 2 })
    left.textContent = '-5 min'
    const right = svg('text', { x: W - 2, y: H - 2, 'text-anchor': 'end' })
    right.textContent = 'now'
    box.append(top, left, right)
    const last = pts.length === 0 ? null : pts[pts.length - 1][1]
    return h('div', { class: 'chart' },
      h('div', { class: 'title' }, h('span', {}, c.title), h('span', { class: 'value' }, last == null ? 'no data' : format(last))),
      box)
  })
  $('charts').replaceChildren(...charts)
}

// --- polling --------------------------------------------------------------------------------

async function pollFast () {
  const [status, peers, jobs, compute] = await Promise.all([api('/v1/status'), api('/v1/peers'), api('/v1/jobs'), api('/v1/compute')])
  Object.assign(state, { status, peers, jobs, compute, fetchedAt: Date.now() })
  renderNode()
  renderSummary()
  renderPeers()
  renderJobs()
}

async function pollSlow () {
  const [receipts, batches, metrics] = await Promise.all([
    api(`/v1/receipts?limit=${RECEIPTS_SHOWN}`),
    api(`/v1/receipts/batches?limit=${RECEIPTS_SHOWN}`),
    fetch('/metrics', { cache: 'no-store', credentials: 'omit' }).then(r => r.ok ? r.text() : '')
  ])
  Object.assign(state, { receipts, batches })
  sampleMetrics(metrics, Date.now())
  renderSummary()
  renderReceipts()
  renderCharts()
}

/** Run `fn` every `interval` ms, one call at a time; a refused token ends it and asks to log in. */
function every (name, interval, fn) {
  let stopped = false
  const loop = async () => {
    while (!stopped) {
      try {
        await fn()
        state.ok[name] = Date.now()
        state.lastOk = Math.min(...Object.values(state.ok))
        state.lastError = null
        if (Object.keys(state.ok).length === 2 && document.body.dataset.state !== 'live') {
          document.body.dataset.state = 'live'
          $('login').hidden = true
          $('main').hidden = false
        }
      } catch (err) {
        if (err instanceof Unauthorized) {
          sessionStorage.removeItem(TOKEN_KEY)
          stopped = true
          showLogin('The node refused this token (it changes when the data dir is new): open the URL `shardmesh dashboard` prints.')
          return
        }
        state.lastError = err instanceof TypeError ? 'the node is not answering' : err.message
      }
      await new Promise(resolve => setTimeout(resolve, interval))
    }
  }
  void loop()
  return () => { stopped = true }
}

let stopPolling = []

function start () {
  stopPolling.forEach(stop => stop())
  state.ok = {}
  stopPolling = [every('fast', POLL, pollFast), every('slow', SLOW_POLL, pollSlow)]
}

function main () {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const token = $('login-token').value.trim()
    if (token === '') return
    sessionStorage.setItem(TOKEN_KEY, token)
    $('login-token').value = ''
    $('login').hidden = true
    document.body.dataset.state = 'loading'
    start()
  })
  window.addEventListener('hashchange', () => {
    if (takeTokenFromFragment() != null) start()
  })
  setInterval(tickAges, 250)
  if (takeTokenFromFragment() == null) {
    showLogin()
    return
  }
  start()
}

main()
