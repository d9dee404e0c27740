import { capabilityKey } from './keys.js'
import type { CapabilityRequirement } from './index.js'
import type { PeerEntry } from './peer-table.js'

/** Does a peer's advert satisfy the requirement? Every stated field must hold. */
export function matchesRequirement (entry: PeerEntry, req: CapabilityRequirement): boolean {
  if (req.workload != null && !entry.workloads.some(w => w.id === req.workload && (req.workloadVersion == null || w.version === req.workloadVersion))) {
    return false
  }
  if (req.model != null && !entry.models.some(m => m.toString() === req.model)) {
    return false
  }
  if (req.gpu != null && !entry.hardware.gpus.some(g => g.vendor === req.gpu)) {
    return false
  }
  if (req.minFreeSlots != null && entry.freeSlots < req.minFreeSlots) {
    return false
  }
  if (req.minMemoryBytes != null && entry.hardware.memoryBytes < req.minMemoryBytes) {
    return false
  }
  return true
}

/** The DHT keys that could find providers for a requirement, most specific first. */
export function requirementKeys (req: CapabilityRequirement): string[] {
  const keys: string[] = []
  if (req.model != null) keys.push(capabilityKey('model', req.model))
  if (req.workload != null) keys.push(capabilityKey('workload', req.workload))
  if (req.gpu != null) keys.push(capabilityKey('gpu', req.gpu))
  return keys
}
