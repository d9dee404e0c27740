import { lpStream } from '@libp2p/utils'
import {
  MAX_CAPS_REQUEST_BYTES,
  MAX_CAPS_RESPONSE_BYTES,
  MessageTooLargeError,
  decodeCapsRequest,
  decodeCapsResponse,
  encodeCapsRequest,
  encodeCapsResponse,
  toWireError
} from '@shardmesh/protocol'
import { MAX_SYNC_ADVERTS } from './constants.js'
import { CapsRequestError } from './errors.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/**
 * The wire side of `/shardmesh/caps/1.0.0`, free of policy: the requester sends one
 * `CapsRequest`; the responder sends its own signed advert with the count of frames to follow,
 * then that many adverts it holds. Every frame is length-prefixed and size-limited. Adverts
 * travel as their exact signed bytes: the caller verifies each one.
 */

export interface RequestAdvertsOptions extends AbortOptions {
  includeKnown: boolean
  maxAdverts: number
}

/** Send a request and yield each advert as it arrives: the responder's own first. */
export async function * requestAdverts (stream: Stream, options: RequestAdvertsOptions): AsyncGenerator<{ bytes: Uint8Array, own: boolean }> {
  const { signal } = options
  const lp = lpStream(stream, { maxDataLength: MAX_CAPS_RESPONSE_BYTES })
  const max = Math.min(options.maxAdverts, MAX_SYNC_ADVERTS)
  await lp.write(encodeCapsRequest({ includeKnown: options.includeKnown, maxAdverts: max }), { signal })
  const first = decodeCapsResponse((await lp.read({ signal })).subarray())
  if (first.error != null) {
    throw new CapsRequestError(`peer answered ${first.error.code}: ${first.error.message.slice(0, 200)}`, first.error.code)
  }
  yield { bytes: first.advert, own: true }
  // never read more than we asked for, whatever the peer claims
  const more = Math.min(first.more, max)
  for (let i = 0; i < more; i++) {
    yield { bytes: decodeCapsResponse((await lp.read({ signal })).subarray()).advert, own: false }
  }
  await stream.close({ signal })
}

export interface ServeAdvertsOptions extends AbortOptions {
  /** Our own current signed advert. */
  own: () => Promise<Uint8Array>
  /** Up to `max` signed adverts we hold, to relay. */
  known: (max: number) => Uint8Array[]
}

/** Answer one request. A malformed or oversized request gets a coded error frame. */
export async function serveAdverts (stream: Stream, options: ServeAdvertsOptions): Promise<void> {
  const { signal } = options
  const lp = lpStream(stream, { maxDataLength: MAX_CAPS_REQUEST_BYTES })
  let request
  try {
    request = decodeCapsRequest((await lp.read({ signal })).subarray())
  } catch (err: any) {
    const reason = err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError'
      ? new MessageTooLargeError(`caps request over ${MAX_CAPS_REQUEST_BYTES} bytes`)
      : err
    await lp.write(encodeCapsResponse({ advert: new Uint8Array(0), more: 0, error: toWireError(reason) }), { signal })
    await stream.close({ signal })
    return
  }
  const own = await options.own()
  const known = request.includeKnown ? options.known(Math.min(request.maxAdverts, MAX_SYNC_ADVERTS)) : []
  await lp.write(encodeCapsResponse({ advert: own, more: known.length }), { signal })
  for (const bytes of known) {
    await lp.write(encodeCapsResponse({ advert: bytes, more: 0 }), { signal })
  }
  await stream.close({ signal })
}
