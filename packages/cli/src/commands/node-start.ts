import { mkdir, rm } from 'node:fs/promises'
import { createMeshNode, solanaAddress } from '@shardmesh/node'
import { Registry } from 'prom-client'
import { EXIT_OK } from '../args.js'
import { ControlServer } from '@shardmesh/control'
import { linkSignals, writeFileAtomic } from '@shardmesh/protocol'
import { claimPidFile } from '../daemon/files.js'
import { DaemonLog, logNodeEvents } from '../daemon/log.js'
import { loginUrl } from '../daemon/login.js'
import { watchParent } from '../parent.js'
import { NODE_HELP } from './node.js'
import type { JoinStatus } from '@shardmesh/control'
import type { StartOptions } from '../daemon/start-options.js'
import type { DrainResult } from '@shardmesh/compute'
import type { JoinResult, MeshNode } from '@shardmesh/node'

/**
 * Run the daemon. Order matters: every flag was checked before this runs; the pid file and the
 * control port are claimed before libp2p starts (either taken: nothing else starts); the
 * control API serves as soon as libp2p listens, and the join runs in the background.
 */
export async function nodeStart (opts: StartOptions): Promise<number> {
  if (opts.help) {
    process.stdout.write(NODE_HELP)
    return EXIT_OK
  }
  const { dataDir } = opts
  const log = new DaemonLog(opts.logLevel)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const pidLock = await claimPidFile(dataDir)
  let node: MeshNode | undefined
  let join: JoinStatus = { state: 'joining' }
  let stopping: Promise<void> | undefined
  const done = Promise.withResolvers<void>()
  const registry = new Registry()
  const cleanups: Array<() => void> = []
  /** aborted by a second signal: stop now, whatever is in flight */
  const hurry = new AbortController()
  const stop = (graceful: boolean): void => {
    if (stopping != null) {
      hurry.abort()
      return
    }
    stopping = (async () => {
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'stopping', graceful }) + '\n')
      }
      const drain = graceful && node != null ? await drainNode(node, opts, log, hurry.signal) : undefined
      cleanups.forEach(fn => { fn() })
      await control.stop().catch(() => {})
      await node?.stop()
      if (opts.readyFile != null) {
        await rm(opts.readyFile, { force: true })
      }
      await pidLock.release()
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'stopped', drain: drain ?? null }) + '\n')
      }
      done.resolve()
    })()
  }
  const gracefulStop = (): void => { stop(true) }
  const control = new ControlServer({ dataDir, port: opts.controlPort, registry, onStop: gracefulStop, join: () => join, solanaRpc: opts.solanaRpc })
  try {
    await control.listen()
    node = await createMeshNode({
      dataDir,
      swarmKey: opts.swarmKey,
      rateLimits: opts.rateLimits,
      limits: opts.limits,
      listen: opts.listen,
      announce: opts.announce,
      bootstrap: opts.bootstrap,
      network: opts.network,
      metricsRegistry: registry,
      awaitJoin: false,
      capabilities: { advertTtl: opts.advertTtl, refreshInterval: opts.refreshInterval, nvidiaSmi: opts.gpu ? undefined : false },
      compute: {
        registry: opts.workloads,
        offer: opts.offer,
        poolSize: opts.poolSize,
        slots: opts.slots,
        maxQueue: opts.maxQueue,
        allow: opts.allow,
        deny: opts.deny,
        warm: opts.warm,
        // test-only: the worker must pull its countersigned receipts (a lost Countersigned frame)
        ...(opts.fault === 'drop-countersigned' ? { returnReceipts: false } : {}),
        faults: opts.fault === 'wrong-answers' || opts.advertiseSlots != null || opts.wrongAnswersAfter != null
          ? { wrongAnswers: opts.fault === 'wrong-answers', wrongAnswersAfter: opts.wrongAnswersAfter, advertiseSlots: opts.advertiseSlots }
          : undefined,
        challenges: opts.challengeInterval == null ? undefined : { meanInterval: opts.challengeInterval },
        minScore: opts.minScore
      },
      receipts: {
        ledger: opts.solanaRpc == null ? undefined : { rpcUrl: opts.solanaRpc, wsUrl: opts.solanaWs, feePayerKeypair: opts.solanaKeypair },
        batchSize: opts.batchSize,
        batchInterval: opts.batchInterval,
        crashAfterSend: opts.fault === 'crash-after-anchor-send',
        selfAnchorAfter: opts.selfAnchorAfter
      }
    })
  } catch (err) {
    // a port in use, a listen address libp2p refused: nothing may keep running
    await control.stop().catch(() => {})
    await pidLock.release()
    throw err
  }
  cleanups.push(logNodeEvents(node, log))
  const info = await control.start(node)
  // the first signal stops gracefully, a second one at once (stop() hurries)
  process.on('SIGINT', gracefulStop)
  process.on('SIGTERM', gracefulStop)
  cleanups.push(() => {
    process.off('SIGINT', gracefulStop)
    process.off('SIGTERM', gracefulStop)
  })
  // a node started by a cluster must not outlive it (nobody waits for its shards then)
  cleanups.push(watchParent(opts.parentPid, () => { stop(false) }))

  if (opts.bootstrap.length === 0) {
    join = joinStatus(await node.joined, 0)
  }
  const ready = {
    event: 'ready',
    peerId: node.peerId.toString(),
    solanaAddress: solanaAddress(node.peerId),
    addrs: node.getMultiaddrs().map(String),
    announce: opts.announce ?? [],
    control: info.url,
    pid: process.pid,
    dataDir,
    solana: opts.solanaRpc == null ? null : { rpc: opts.solanaRpc, anchorAddress: node.services.receipts.stats().address },
    join
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(ready) + '\n')
  } else {
    process.stdout.write(`peer id   ${ready.peerId}\nsolana    ${ready.solanaAddress}\ndata dir  ${dataDir}\ncontrol   ${info.url}\n`)
    // the login URL holds the control token: printed for the operator, never in the JSON events
    process.stdout.write(`dashboard ${await loginUrl(dataDir, info.url)}\n`)
    process.stdout.write(opts.solanaRpc == null ? 'receipts  stored, not anchored (no --solana-rpc)\n' : `receipts  anchored on ${opts.solanaRpc}\n`)
    for (const addr of ready.addrs) {
      process.stdout.write(`${opts.announce == null ? 'listening' : 'announced'} ${addr}\n`)
    }
    if (opts.bootstrap.length > 0) {
      process.stdout.write(`joining   through ${opts.bootstrap.length} bootstrap ${opts.bootstrap.length === 1 ? 'peer' : 'peers'} (the outcome is logged; 'shardmesh node wait --joined' waits for it)\n`)
    }
  }
  if (opts.readyFile != null) {
    await writeFileAtomic(opts.readyFile, JSON.stringify(ready) + '\n', 0o644)
  }
  if (opts.bootstrap.length > 0) {
    void node.joined.then(result => {
      if (stopping != null) {
        // the stop cut the join short: that is no outcome to report
        return
      }
      join = joinStatus(result, opts.bootstrap.length)
      logJoin(log, join, opts.bootstrap.length)
      if (opts.json) {
        process.stdout.write(JSON.stringify({ event: 'joined', join }) + '\n')
      }
    })
  }
  await done.promise
  return EXIT_OK
}

/**
 * The graceful half of a stop, within --shutdown-timeout (or until a second signal): the worker
 * takes no new shards and waits for those in flight and their countersigned receipts, then, with
 * a ledger, the receipts waiting are anchored. What is left when time is up is cut by the stop
 * (requesters retry those shards elsewhere; receipts stay stored and are anchored at the next
 * start).
 */
async function drainNode (node: MeshNode, opts: StartOptions, log: DaemonLog, hurry: AbortSignal): Promise<DrainResult & { anchored: boolean | null }> {
  const deadline = Date.now() + opts.shutdownTimeout
  log.info(`stopping gracefully: no new shards; waiting up to ${opts.shutdownTimeout / 1000}s for the shards in flight${opts.solanaRpc != null ? ' and the receipts to anchor' : ''} (a second signal stops at once)`)
  const drain = await node.services.compute.drain({ timeout: opts.shutdownTimeout, signal: hurry })
  if (drain.handedBack > 0) {
    log.warn(`stopping with ${drain.handedBack} shard(s) still running: their requesters retry them elsewhere`)
  }
  if (drain.receiptsMissing > 0) {
    log.warn(`${drain.receiptsMissing} countersigned receipt(s) did not come back in time: noted as signed, pulled from their requesters after a restart`)
  }
  let anchored: boolean | null = null
  if (opts.solanaRpc != null && !hurry.aborted) {
    const left = linkSignals([hurry], Math.max(1, deadline - Date.now()))
    try {
      await node.services.receipts.flush({ signal: left.signal })
      anchored = true
    } catch (err: any) {
      anchored = false
      log.warn(`receipts not all anchored before stopping (${err.message}): they stay stored and are anchored at the next start`)
    } finally {
      left.clear()
    }
  }
  log.info(`drained in ${(drain.elapsedMs / 1000).toFixed(1)}s: ${drain.inFlight - drain.handedBack} of ${drain.inFlight} shard(s) in flight finished${anchored == null ? '' : anchored ? ', receipts anchored' : ''}`)
  return { ...drain, anchored }
}

function joinStatus (result: JoinResult, bootstrapPeers: number): JoinStatus {
  const state = bootstrapPeers === 0 ? 'standalone' : result.connected > 0 ? 'joined' : 'unreachable'
  return { state, ...result }
}

function logJoin (log: DaemonLog, join: JoinStatus, bootstrapPeers: number): void {
  if (join.state === 'joined') {
    log.info(`joined the mesh: ${join.connected} of ${bootstrapPeers} bootstrap ${bootstrapPeers === 1 ? 'peer' : 'peers'} answered, ${join.closestPeers} peers from the DHT self-lookup`)
    for (const f of join.failures) {
      log.debug(`join: ${f.addr}: ${f.error}`)
    }
  } else if (join.state === 'unreachable') {
    log.warn(`no bootstrap peer answered within the join deadline; redialling every few seconds while this node has no connection (${join.attempts} rounds tried)`)
    const seen = new Set<string>()
    for (const f of join.failures) {
      if (!seen.has(f.addr)) {
        seen.add(f.addr)
        log.warn(`join: ${f.addr}: ${f.error}`)
      }
    }
  }
}

