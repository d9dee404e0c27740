import type { ControlNode } from './node.js'
import type { PeerRow, PeerTrustJson } from './types.js'
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

/** A verified advert as a `PeerRow`, with what this node knows of the peer (`trust`). */
export function peerRow (p: PeerCapabilities | (VerifiedAdvert & Partial<PeerCapabilities>), now = Date.now(), trust: PeerTrustJson | null = null): PeerRow {
  return {
    peerId: p.peerId.toString(),
    seq: p.seq,
    issuedAt: p.issuedAt,
    expiresAt: p.expiresAt,
    ageMs: Math.max(0, now - p.issuedAt),
    receivedAt: p.receivedAt ?? p.issuedAt,
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
    trust
  }
}
