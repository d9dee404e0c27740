/** JSON shapes of the local control API (loopback HTTP, bearer token). */

export interface PeerRow {
  peerId: string
  seq: number
  issuedAt: number
  expiresAt: number
  ageMs: number
  receivedAt: number
  firstSeenAt: number
  source: string
  hardware: {
    cpuModel: string
    cpuCores: number
    memoryBytes: number
    gpus: Array<{ vendor: string, model: string, memoryBytes: number, uuid: string, driver: string }>
    platform: string
    arch: string
  }
  workloads: Array<{ id: string, version: string, throughput: number }>
  models: string[]
  loadPermille: number
  freeSlots: number
  totalSlots: number
  priceHint: string
  addrs: string[]
}

export interface StatusResponse {
  peerId: string
  solanaAddress: string
  addrs: string[]
  pid: number
  startedAt: number
  uptimeMs: number
  rssBytes: number
  connectedPeers: number
  advert: PeerRow | null
  capabilityKeys: string[]
  providerRecords: Array<{ key: string, cid: string, providedAt?: number, error?: string }>
}

export interface PeersResponse {
  now: number
  peers: PeerRow[]
}

export interface FindResponse {
  elapsedMs: number
  peers: PeerRow[]
}

export interface PublishResponse {
  seq: number
  issuedAt: number
}

/** Written to `<dataDir>/control.json` while the daemon runs. */
export interface ControlInfo {
  url: string
  pid: number
  peerId: string
}
