import {
  MAX_COUNTERSIGNED_RECEIPTS,
  MAX_RECEIPT_BYTES,
  MAX_SHARD_FRAME_BYTES,
  MAX_SHARD_ITEMS,
  MAX_SHARD_PAYLOAD_BYTES,
  MAX_SIGNED_RECEIPT_BYTES,
  MAX_TENSOR_DIMS,
  MAX_TENSORS
} from './constants.js'
import { decodeLimited } from './codec.js'
import type { Loose } from './codec.js'
import { MessageTooLargeError } from './errors.js'
import { Receipt, SignedReceipt, Verification } from './pb/receipt.js'
import { ClientFrame, ItemList, TensorMap, WorkerFrame } from './pb/shard.js'
import type { DecodeOptions } from 'protons-runtime'

function checkSize (name: string, bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.byteLength > max) {
    throw new MessageTooLargeError(`${name}: ${bytes.byteLength} bytes is over the ${max} byte limit`)
  }
  return bytes
}

export function decodeItemList (bytes: Uint8Array, maxBytes = MAX_SHARD_PAYLOAD_BYTES): ItemList {
  return decodeLimited('ItemList', ItemList.codec(), bytes, maxBytes, { limits: { items: MAX_SHARD_ITEMS } })
}

export function encodeItemList (items: Uint8Array[], maxBytes = MAX_SHARD_PAYLOAD_BYTES): Uint8Array {
  if (items.length > MAX_SHARD_ITEMS) {
    throw new MessageTooLargeError(`ItemList: ${items.length} items is over the ${MAX_SHARD_ITEMS} item limit`)
  }
  return checkSize('ItemList', ItemList.encode({ items } as ItemList), maxBytes)
}

const TENSOR_LIMITS = { limits: { tensors: MAX_TENSORS, tensors$: { dims: MAX_TENSOR_DIMS } } } as unknown as DecodeOptions<TensorMap>

export function decodeTensorMap (bytes: Uint8Array, maxBytes = MAX_SHARD_PAYLOAD_BYTES): TensorMap {
  return decodeLimited('TensorMap', TensorMap.codec(), bytes, maxBytes, TENSOR_LIMITS)
}

export function encodeTensorMap (map: Loose<TensorMap>): Uint8Array {
  return TensorMap.encode(map as TensorMap)
}

const CLIENT_FRAME_LIMITS = { limits: { countersigned: { receipts: MAX_COUNTERSIGNED_RECEIPTS } } } as unknown as DecodeOptions<ClientFrame>

/**
 * A requester's frame. A `countersigned` frame holds at most `MAX_COUNTERSIGNED_RECEIPTS`
 * receipts (each receipt's own size is checked where it is decoded: `decodeSignedReceipt`).
 */
export function decodeClientFrame (bytes: Uint8Array, maxBytes = MAX_SHARD_FRAME_BYTES): ClientFrame {
  return decodeLimited('ClientFrame', ClientFrame.codec(), bytes, maxBytes, CLIENT_FRAME_LIMITS)
}

export function encodeClientFrame (frame: Loose<ClientFrame>): Uint8Array {
  return ClientFrame.encode(frame as ClientFrame)
}

export function decodeWorkerFrame (bytes: Uint8Array, maxBytes = MAX_SHARD_FRAME_BYTES): WorkerFrame {
  return decodeLimited('WorkerFrame', WorkerFrame.codec(), bytes, maxBytes)
}

export function encodeWorkerFrame (frame: Loose<WorkerFrame>): Uint8Array {
  return WorkerFrame.encode(frame as WorkerFrame)
}

export function decodeReceipt (bytes: Uint8Array): Receipt {
  return decodeLimited('Receipt', Receipt.codec(), bytes, MAX_RECEIPT_BYTES)
}

export function encodeReceipt (receipt: Loose<Receipt>): Uint8Array {
  return checkSize('Receipt', Receipt.encode(receipt as Receipt), MAX_RECEIPT_BYTES)
}

export function decodeSignedReceipt (bytes: Uint8Array): SignedReceipt {
  return decodeLimited('SignedReceipt', SignedReceipt.codec(), bytes, MAX_SIGNED_RECEIPT_BYTES)
}

export function encodeSignedReceipt (signed: Loose<SignedReceipt>): Uint8Array {
  return checkSize('SignedReceipt', SignedReceipt.encode(signed as SignedReceipt), MAX_SIGNED_RECEIPT_BYTES)
}

export function encodeVerification (verification: Verification): Uint8Array {
  return Verification.encode(verification)
}
