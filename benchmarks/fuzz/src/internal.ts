/**
 * Decoders a package uses inside but does not export (the compute shard stream's FrameReader,
 * the receipt protocols' readFrame, the chain's wire parser, the CLI's .npy reader, the control
 * API's body reader, the receipt store's record decoder): loaded from the package's own built
 * files, next to its entry point, so the fuzzer calls exactly the code the node runs. Their
 * types are written out here, as much of them as the fuzzer uses.
 */
import type { AbortOptions, Stream } from '@libp2p/interface'

async function load <T> (pkg: string, file: string): Promise<T> {
  // the entry point is dist/src/index.js of the package: its other modules sit beside it
  const entry = import.meta.resolve(pkg)
  return await import(new URL(file, entry).href) as T
}

export interface FrameReaderModule {
  FrameReader: new (stream: Stream, init: { maxDataLength: number, maxBufferSize: number }) => {
    read(options?: AbortOptions): Promise<Uint8Array | undefined>
    close(): void
  }
}

export interface AnchoringFramesModule {
  readFrame(stream: Stream, max: number, options: AbortOptions): Promise<Uint8Array>
}

export interface ChainWireModule {
  parseWire(wire: Uint8Array): unknown
  parseMessage(bytes: Uint8Array): unknown
}

export interface ChainJsonRpcModule {
  parseRequest(value: unknown): unknown
}

export interface ChainAccountFiltersModule {
  parseAccountFilters(value: unknown): unknown
}

export interface ChainBase58Module {
  decodeBase58(value: string): Uint8Array
}

export interface NpyModule {
  decodeNpy(bytes: Uint8Array, maxBytes?: number): unknown
}

export interface ControlHttpModule {
  readJson(req: AsyncIterable<Buffer>, maxBody?: number): Promise<any>
}

export interface Internals {
  frames: FrameReaderModule
  anchoringFrames: AnchoringFramesModule
  chainWire: ChainWireModule
  chainJsonRpc: ChainJsonRpcModule
  chainAccountFilters: ChainAccountFiltersModule
  chainBase58: ChainBase58Module
  npy: NpyModule
  controlHttp: ControlHttpModule
}

let loaded: Promise<Internals> | undefined

export async function internals (): Promise<Internals> {
  loaded ??= (async () => ({
    frames: await load<FrameReaderModule>('@shardmesh/compute', './frames.js'),
    anchoringFrames: await load<AnchoringFramesModule>('@shardmesh/anchoring', './frames.js'),
    chainWire: await load<ChainWireModule>('@shardmesh/chain', './wire.js'),
    chainJsonRpc: await load<ChainJsonRpcModule>('@shardmesh/chain', './json-rpc.js'),
    chainAccountFilters: await load<ChainAccountFiltersModule>('@shardmesh/chain', './account-filters.js'),
    chainBase58: await load<ChainBase58Module>('@shardmesh/chain', './base58.js'),
    npy: await load<NpyModule>('@shardmesh/cli', './job/npy.js'),
    controlHttp: await load<ControlHttpModule>('@shardmesh/control', './http.js'),
  }))()
  return loaded
}
