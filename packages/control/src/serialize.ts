import type { ControlNode } from './node.js'
import type { PeerRow, PeerTrustJson, SolanaStatus } from './types.js'
import type { PeerCapabilities, VerifiedAdvert } from '@shardmesh/capabilities'

/**
 * What the node's compute service knows of a peer, or null: for this node itself (it makes no
 * claims to itself), and when the service cannot say (not started, or it throws) — a listing
 * never fails for one peer's trust.
 */
export function peerTrust (node: ControlNode, peerId: string): PeerTrustJson | null {
  if (peerId === node.peerId.toString()) {
    return null
  }
  try {
    return node.services.compute.peerTrust(peerId) ?? null
  } catch {
    return null
  }
}

/** The peers this node has an open connection to now (peer id strings). */
export function connectedPeers (node: ControlNode): Set<string> {
  return new Set(node.getConnections().filter(c => c.status === 'open').map(c => c.remotePeer.toString()))
}

/**
 * A verified advert as a `PeerRow`, with what this node knows of the peer (`trust`) and whether
 * it is connected to it now (`connected`; by default only this node's own advert, whose
 * `source` is absent or `self`, counts as connected).
 */
export function peerRow (p: PeerCapabilities | (VerifiedAdvert & Partial<PeerCapabilities>), now = Date.now(), trust: PeerTrustJson | null = null, connected: boolean = (p.source ?? 'self') === 'self'): PeerRow {
  return {
    peerId: p.peerId.toString(),
    seq: p.seq,
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
    ageMs: Math.max(0, now - (p.localIssuedAt ?? p.issuedAt)),
    receivedAt: p.receivedAt ?? p.issuedAt,
    ...(p.clockOffset != null ? { clockOffset: Math.round(p.clockOffset) } : {}),
    localIssuedAt: p.localIssuedAt ?? p.issuedAt,
    heldUntil: p.heldUntil ?? p.expiresAt,
    firstSeenAt: p.firstSeenAt ?? p.issuedAt,
    source: p.source ?? 'self',
    hardware: { ...p.hardware, gpus: p.hardware.gpus.map(g => ({ ...g })) },
    workloads: p.workloads.map(w => ({ id: w.id, version: w.version, throughput: w.throughput })),
    models: p.models.map(m => m.toString()),
    loadPermille: p.loadPermille,
    freeSlots: p.freeSlots,
    totalSlots: p.totalSlots,
    priceHint: p.priceHint,
    addrs: p.addrs.map(a => a.toString()),
    trust,
    connected
  }
}

/**
 * Which public explorer cluster an RPC URL is, by its host: `devnet`, `testnet` or
 * `mainnet-beta` for Solana's public endpoints and hosts that name one of them (an RPC
 * provider's `*mainnet*` host); null for anything else (a local chain has no explorer) and for
 * a URL that does not parse.
 */
export function explorerCluster (rpc: string): SolanaStatus['explorerCluster'] {
  let host: string
  try {
    host = new URL(rpc).hostname.toLowerCase()
  } catch {
    return null
  }
  if (host.includes('mainnet')) {
    return 'mainnet-beta'
  }
  if (host.includes('devnet')) {
    return 'devnet'
  }
  if (host.includes('testnet')) {
    return 'testnet'
  }
  return null
}

/**
 * The Solana status of a node anchoring through `rpc`, or null when it anchors nothing. The RPC
 * is reported by its origin only (scheme, host, port): RPC providers put API keys in the path,
 * the query or the credentials of the URL, and the status is shown on a page.
 */
export function solanaStatus (rpc: string | undefined): SolanaStatus | null {
  if (rpc == null || rpc === '') {
    return null
  }
  let origin: string
  try {
    const url = new URL(rpc)
    origin = url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin
  } catch {
    origin = rpc
  }
  return { rpc: origin, explorerCluster: explorerCluster(rpc) }
}
