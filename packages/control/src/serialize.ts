import type { PeerRow } from './types.js'
import type { PeerCapabilities, VerifiedAdvert } from '@shardmesh/capabilities'

export function peerRow (p: PeerCapabilities | (VerifiedAdvert & Partial<PeerCapabilities>), now = Date.now()): PeerRow {
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
    addrs: p.addrs.map(a => a.toString())
  }
}
