import { execFile } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { GPU_PROBE_TIMEOUT } from './constants.js'
import { createHash } from 'node:crypto'
import type { AbortOptions } from '@libp2p/interface'

export interface GpuInfo {
  vendor: string
  model: string
  memoryBytes: number
  uuid: string
  driver: string
}

export interface HardwareInfo {
  cpuModel: string
  cpuCores: number
  memoryBytes: number
  gpus: GpuInfo[]
  platform: string
  arch: string
}

export interface ProbeOptions extends AbortOptions {
  /** Path or name of the nvidia-smi binary; `false` skips the GPU probe. @default 'nvidia-smi' */
  nvidiaSmi?: string | false
  /** @default 5000 */
  timeout?: number
}

const NVIDIA_QUERY = ['--query-gpu=name,memory.total,uuid,driver_version', '--format=csv,noheader,nounits']

/**
 * Measure this machine: CPU model and cores, memory, and GPUs as reported by `nvidia-smi`.
 * A machine without nvidia-smi (or whose nvidia-smi fails) has no GPUs: never a made-up entry.
 */
export async function probeHardware (options: ProbeOptions = {}): Promise<HardwareInfo> {
  const cpus = os.cpus()
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').trim(),
    cpuCores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    gpus: options.nvidiaSmi === false ? [] : await probeNvidiaGpus(options),
    platform: os.platform(),
    arch: os.arch()
  }
}

export async function probeNvidiaGpus (options: ProbeOptions = {}): Promise<GpuInfo[]> {
  const bin = options.nvidiaSmi === false ? undefined : options.nvidiaSmi ?? 'nvidia-smi'
  if (bin == null) {
    return []
  }
  const stdout = await new Promise<string | undefined>((resolve) => {
    execFile(bin, NVIDIA_QUERY, {
      timeout: options.timeout ?? GPU_PROBE_TIMEOUT,
      signal: options.signal,
      maxBuffer: 64 * 1024,
      windowsHide: true
    }, (err, out) => { resolve(err == null ? out : undefined) })
  })
  return stdout == null ? [] : parseNvidiaSmi(stdout)
}

/** Parse `nvidia-smi --query-gpu=name,memory.total,uuid,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi (csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = []
  for (const line of csv.split('\n')) {
    const fields = line.split(',').map(f => f.trim())
    if (fields.length < 4 || fields[0] === '') {
      continue
    }
    const [model, memMiB, uuid, driver] = fields
    const mib = Number.parseInt(memMiB, 10)
    if (!Number.isFinite(mib) || mib <= 0) {
      continue
    }
    gpus.push({ vendor: 'nvidia', model, memoryBytes: mib * 1024 * 1024, uuid, driver })
  }
  return gpus
}

/**
 * Content-address every regular file directly under `dir` (CIDv1, raw, sha256): the models
 * this node holds. A missing directory holds no models.
 */
export async function probeModels (dir: string, options: AbortOptions = {}): Promise<CID[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).sort()
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return []
    }
    throw err
  }
  const cids: CID[] = []
  for (const name of names) {
    options.signal?.throwIfAborted()
    const path = join(dir, name)
    if (!(await stat(path)).isFile()) {
      continue
    }
    cids.push(await hashFile(path))
  }
  return cids
}

async function hashFile (path: string): Promise<CID> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
  }
  return CID.createV1(raw.code, createDigest(0x12, new Uint8Array(hash.digest())))
}
