import { createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto'
import { decodeBase58, encodeBase58 } from './base58.js'
import type { KeyObject } from 'node:crypto'

/**
 * The chain's faucet: an Ed25519 keypair whose account is funded at genesis. An airdrop is a
 * real System Program transfer it signs, so it has a signature and a history entry like an
 * airdrop on `solana-test-validator`. Signing is synchronous (node:crypto), so the chain
 * stays single-stepped.
 */

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SYSTEM_PROGRAM_BYTES = new Uint8Array(32)
const SYSTEM_TRANSFER = 2

export class Faucet {
  /** base58 address */
  public readonly address: string
  public readonly seed: Uint8Array
  private readonly privateKey: KeyObject
  private readonly publicKey: Uint8Array

  constructor (seed: Uint8Array) {
    if (seed.length !== 32) {
      throw new Error('a faucet seed is 32 bytes')
    }
    this.seed = seed
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32))
    this.address = encodeBase58(this.publicKey)
  }

  static generate (): Faucet {
    return new Faucet(new Uint8Array(randomBytes(32)))
  }

  /** A signed legacy transaction moving `lamports` from the faucet to `to`. */
  transfer (to: string, lamports: bigint, blockhash: string): Uint8Array {
    const data = Buffer.alloc(12)
    data.writeUInt32LE(SYSTEM_TRANSFER, 0)
    data.writeBigUInt64LE(lamports, 4)
    const message = Buffer.concat([
      // header: 1 signature, 0 readonly signed, 1 readonly unsigned (the System Program)
      Buffer.from([1, 0, 1]),
      Buffer.from([3]), this.publicKey, decodeBase58(to), SYSTEM_PROGRAM_BYTES,
      decodeBase58(blockhash),
      // one instruction: program index 2, accounts [0, 1], 12 bytes of data
      Buffer.from([1, 2, 2, 0, 1, data.length]), data
    ])
    const signature = sign(null, message, this.privateKey)
    return new Uint8Array(Buffer.concat([Buffer.from([1]), signature, message]))
  }
}
