import * as zlib from 'node:zlib'

/** CRC-32 (IEEE, as zlib and gzip): node:zlib's where it has one (Node 20.15+), else a table. */

let table: Uint32Array | undefined

function crcTable (): Uint32Array {
  if (table == null) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) {
        c = (c & 1) === 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      }
      table[n] = c >>> 0
    }
  }
  return table
}

/** CRC-32 computed with a lookup table (the fallback; exported for tests). */
export function tableCrc32 (data: Uint8Array): number {
  const t = crcTable()
  let crc = 0xffffffff
  for (let i = 0; i < data.byteLength; i++) {
    crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  }
  return (crc ^ 0xffffffff) >>> 0
}

const native: ((data: Uint8Array) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined

export function crc32 (data: Uint8Array): number {
  return native != null ? native(data) : tableCrc32(data)
}
