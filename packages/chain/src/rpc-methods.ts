import { SHARDMESH_CHAIN_VERSION_KEY } from '@shardmesh/solana'
import { isTokenAccount, isTokenProgram, matchesFilters, parseAccountFilters, tokenAccountMintAndOwner } from './account-filters.js'
import { decodeBase58 } from './base58.js'
import {
  FEATURE_SET, MAX_GET_BLOCKS_RANGE, MAX_MULTIPLE_ACCOUNTS, MAX_PRIORITIZATION_FEE_ADDRESSES, PRIORITIZATION_FEE_SLOTS, MAX_SIGNATURES_FOR_ADDRESS, MAX_SIGNATURE_STATUSES, SHARDMESH_CHAIN_VERSION, SLOTS_PER_EPOCH,
  SOLANA_CORE_VERSION, STATUS_CACHE_BLOCKS
} from './constants.js'
import {
  BLOCK_NOT_AVAILABLE, INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND, addressParam, checkMinContextSlot, configParam, integerParam, invalidParams, signatureParam, stringParam
} from './json-rpc.js'
import { assertAccountEncoding, encodeAccount, encodeTransaction } from './rpc-encode.js'
import type { EmbeddedChain } from './chain.js'
import type { AccountState, ChainBlock } from './types.js'

/**
 * The HTTP JSON-RPC methods, each `(params) => result` over one chain. Every landed
 * transaction is final (a single node), so commitments are accepted and all answers are
 * `finalized`.
 */

export type RpcMethod = (params: unknown[]) => unknown

/** Base64 wire transactions longer than this are over 1232 bytes; base58 ones likewise. */
const MAX_BASE64_TRANSACTION = 1644
const MAX_BASE58_TRANSACTION = 1683

function decodeWire (text: string, encoding: unknown): Uint8Array {
  if (encoding === undefined || encoding === null || encoding === 'base58') {
    if (text.length > MAX_BASE58_TRANSACTION) {
      throw invalidParams(`base58 encoded transaction too large: ${text.length} bytes (max: encoded/raw ${MAX_BASE58_TRANSACTION}/1232)`)
    }
    try {
      return decodeBase58(text)
    } catch {
      throw invalidParams('invalid base58 encoding')
    }
  }
  if (encoding === 'base64') {
    if (text.length > MAX_BASE64_TRANSACTION) {
      throw invalidParams(`base64 encoded transaction too large: ${text.length} bytes (max: encoded/raw ${MAX_BASE64_TRANSACTION}/1232)`)
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw invalidParams('invalid base64 encoding')
    }
    return new Uint8Array(Buffer.from(text, 'base64'))
  }
  throw invalidParams(`unsupported encoding: ${JSON.stringify(encoding)}`)
}

function blockNotAvailable (slot: bigint): JsonRpcError {
  return new JsonRpcError(BLOCK_NOT_AVAILABLE, `Block not available for slot ${slot}`)
}

const TRANSACTION_DETAILS = ['full', 'signatures', 'none']

/** `getBlock`'s result for `block`, honouring `encoding`, `transactionDetails`, `rewards` and `maxSupportedTransactionVersion`. */
function encodeBlock (block: ChainBlock, config: Record<string, unknown>): unknown {
  const details = config.transactionDetails ?? 'full'
  if (!TRANSACTION_DETAILS.includes(details as string)) {
    throw invalidParams(`unsupported transactionDetails: ${JSON.stringify(details)}`)
  }
  let transactions: unknown
  if (details === 'full') {
    transactions = block.transactions.map(record => {
      const { slot: _slot, blockTime: _blockTime, ...rest } = encodeTransaction(record, config) as Record<string, unknown>
      return rest
    })
  }
  return {
    blockHeight: block.blockHeight,
    blockTime: block.blockTime,
    blockhash: block.blockhash,
    parentSlot: block.parentSlot,
    previousBlockhash: block.previousBlockhash,
    ...(details === 'full' ? { transactions } : {}),
    ...(details === 'signatures' ? { signatures: block.transactions.map(record => record.signature) } : {}),
    ...(config.rewards === false ? {} : { rewards: [] })
  }
}

/** `{ pubkey, account }` for each of `accounts`, in the request's encoding. */
function keyedAccounts (accounts: AccountState[], config: Record<string, unknown>): unknown[] {
  return accounts.map(account => ({ pubkey: account.address, account: encodeAccount(account, config) }))
}

export function createRpcMethods (chain: EmbeddedChain): Record<string, RpcMethod> {
  /** `{ context, value }`, after the `minContextSlot` check */
  const withContext = (config: Record<string, unknown>, value: () => unknown): unknown => {
    checkMinContextSlot(config, chain.slot)
    return { context: { slot: chain.slot }, value: value() }
  }
  const plain = (config: Record<string, unknown>, value: () => unknown): unknown => {
    checkMinContextSlot(config, chain.slot)
    return value()
  }

  return {
    getHealth: () => 'ok',
    getVersion: () => ({ 'solana-core': SOLANA_CORE_VERSION, 'feature-set': FEATURE_SET, [SHARDMESH_CHAIN_VERSION_KEY]: SHARDMESH_CHAIN_VERSION }),
    getGenesisHash: () => chain.genesisHash,
    getFirstAvailableBlock: () => 0,
    getSlot: params => plain(configParam(params, 0), () => chain.slot),
    getBlockHeight: params => plain(configParam(params, 0), () => chain.blockHeight),
    getTransactionCount: params => plain(configParam(params, 0), () => chain.transactionCount),
    getEpochInfo: params => plain(configParam(params, 0), () => chain.epochInfo()),
    getEpochSchedule: () => ({ slotsPerEpoch: SLOTS_PER_EPOCH, leaderScheduleSlotOffset: SLOTS_PER_EPOCH, warmup: false, firstNormalEpoch: 0, firstNormalSlot: 0 }),
    getLatestBlockhash: params => withContext(configParam(params, 0), () => chain.latestBlockhash()),
    isBlockhashValid: params => {
      const blockhash = stringParam(params, 0, 'a blockhash')
      return withContext(configParam(params, 1), () => chain.isBlockhashValid(blockhash))
    },
    getBalance: params => {
      const address = addressParam(params, 0)
      return withContext(configParam(params, 1), () => chain.getBalance(address))
    },
    getAccountInfo: params => {
      const address = addressParam(params, 0)
      const config = configParam(params, 1)
      return withContext(config, () => {
        const account = chain.getAccount(address)
        return account == null ? null : encodeAccount(account, config)
      })
    },
    getMultipleAccounts: params => {
      const list = params[0]
      if (!Array.isArray(list) || list.length > MAX_MULTIPLE_ACCOUNTS) {
        throw invalidParams(`expected an array of at most ${MAX_MULTIPLE_ACCOUNTS} addresses`)
      }
      const addresses = list.map((_, i) => addressParam(list, i))
      const config = configParam(params, 1)
      return withContext(config, () => addresses.map(address => {
        const account = chain.getAccount(address)
        return account == null ? null : encodeAccount(account, config)
      }))
    },
    getMinimumBalanceForRentExemption: params => {
      const size = integerParam(params[0] ?? 0, 'data length')
      return plain(configParam(params, 1), () => chain.minimumBalanceForRentExemption(Number(size)))
    },
    getFeeForMessage: params => {
      const message = stringParam(params, 0, 'a base64 message')
      return withContext(configParam(params, 1), () => chain.feeForMessage(new Uint8Array(Buffer.from(message, 'base64'))))
    },
    sendTransaction: params => {
      const text = stringParam(params, 0, 'a wire transaction')
      const config = configParam(params, 1)
      checkMinContextSlot(config, chain.slot)
      return chain.sendTransaction(decodeWire(text, config.encoding), { skipPreflight: config.skipPreflight === true })
    },
    simulateTransaction: params => {
      const text = stringParam(params, 0, 'a wire transaction')
      const config = configParam(params, 1)
      if (config.sigVerify === true && config.replaceRecentBlockhash === true) {
        throw invalidParams('sigVerify may not be used with replaceRecentBlockhash')
      }
      const wire = decodeWire(text, config.encoding)
      return withContext(config, () => {
        const result = chain.simulateTransaction(wire, { sigVerify: config.sigVerify === true, replaceRecentBlockhash: config.replaceRecentBlockhash === true })
        return {
          err: result.err,
          logs: result.logs,
          accounts: null,
          unitsConsumed: result.unitsConsumed,
          returnData: result.returnData == null ? null : { programId: result.returnData.programId, data: [Buffer.from(result.returnData.data).toString('base64'), 'base64'] },
          replacementBlockhash: result.replacementBlockhash
        }
      })
    },
    requestAirdrop: params => {
      const address = addressParam(params, 0)
      const lamports = integerParam(params[1], 'lamports')
      return chain.airdrop(address, lamports)
    },
    getSignatureStatuses: params => {
      const list = params[0]
      if (!Array.isArray(list) || list.length > MAX_SIGNATURE_STATUSES) {
        throw invalidParams(`expected an array of at most ${MAX_SIGNATURE_STATUSES} signatures`)
      }
      const signatures = list.map(signatureParam)
      const config = configParam(params, 1)
      const searchHistory = config.searchTransactionHistory === true
      return withContext(config, () => signatures.map(signature => {
        const status = chain.signatureStatus(signature)
        // without searchTransactionHistory a node only answers from its recent status cache
        if (status == null || (!searchHistory && chain.blockHeight - status.blockHeight > BigInt(STATUS_CACHE_BLOCKS))) {
          return null
        }
        return {
          slot: status.slot,
          confirmations: null,
          err: status.err,
          status: status.err == null ? { Ok: null } : { Err: status.err },
          confirmationStatus: 'finalized'
        }
      }))
    },
    getTransaction: params => {
      const signature = signatureParam(params[0])
      const config = typeof params[1] === 'string' ? { encoding: params[1] } : configParam(params, 1)
      checkMinContextSlot(config, chain.slot)
      const record = chain.getTransaction(signature)
      return record == null ? null : encodeTransaction(record, config)
    },
    getSignaturesForAddress: params => {
      const address = addressParam(params, 0)
      const config = configParam(params, 1)
      const limit = config.limit == null ? MAX_SIGNATURES_FOR_ADDRESS : Number(integerParam(config.limit, 'limit'))
      if (limit < 1 || limit > MAX_SIGNATURES_FOR_ADDRESS) {
        throw invalidParams(`Invalid limit; max ${MAX_SIGNATURES_FOR_ADDRESS}`)
      }
      const before = config.before == null ? undefined : signatureParam(config.before)
      const until = config.until == null ? undefined : signatureParam(config.until)
      return plain(config, () => chain.signaturesForAddress(address, { limit, before, until })
        .map(entry => ({ ...entry, confirmationStatus: 'finalized' })))
    },
    getBlock: params => {
      const slot = integerParam(params[0], 'slot')
      const config = typeof params[1] === 'string' ? { encoding: params[1] } : configParam(params, 1)
      checkMinContextSlot(config, chain.slot)
      const block = chain.block(slot)
      if (block == null) {
        throw blockNotAvailable(slot)
      }
      return encodeBlock(block, config)
    },
    getBlockTime: params => {
      const slot = integerParam(params[0], 'slot')
      const block = chain.block(slot)
      if (block == null) {
        throw blockNotAvailable(slot)
      }
      return block.blockTime
    },
    getBlocks: params => {
      const start = integerParam(params[0], 'start slot')
      // the second parameter is the end slot, or the config when there is no end slot
      const hasEnd = params[1] != null && typeof params[1] !== 'object'
      const config = configParam(params, hasEnd ? 2 : 1)
      const end = hasEnd ? integerParam(params[1], 'end slot') : chain.slot
      if (end > start && end - start > MAX_GET_BLOCKS_RANGE) {
        throw invalidParams(`Slot range too large; max ${MAX_GET_BLOCKS_RANGE}`)
      }
      return plain(config, () => slotRange(start, end < chain.slot ? end : chain.slot))
    },
    getBlocksWithLimit: params => {
      const start = integerParam(params[0], 'start slot')
      const limit = integerParam(params[1], 'limit')
      if (limit > MAX_GET_BLOCKS_RANGE) {
        throw invalidParams(`Limit too large; max ${MAX_GET_BLOCKS_RANGE}`)
      }
      const config = configParam(params, 2)
      const last = start + limit - 1n
      return plain(config, () => slotRange(start, last < chain.slot ? last : chain.slot))
    },
    getRecentPrioritizationFees: params => {
      const list = params[0] ?? []
      if (!Array.isArray(list)) {
        throw invalidParams('expected an array of addresses')
      }
      if (list.length > MAX_PRIORITIZATION_FEE_ADDRESSES) {
        throw invalidParams(`Too many inputs provided; max ${MAX_PRIORITIZATION_FEE_ADDRESSES}`)
      }
      list.forEach((_, i) => addressParam(list, i))
      // no fee market on one local node: every landed transaction paid no priority fee that mattered
      const first = chain.slot > PRIORITIZATION_FEE_SLOTS ? chain.slot - PRIORITIZATION_FEE_SLOTS + 1n : 1n
      return slotRange(first, chain.slot).map(slot => ({ slot, prioritizationFee: 0 }))
    },
    getProgramAccounts: params => {
      const program = addressParam(params, 0)
      const config = configParam(params, 1)
      assertAccountEncoding(config)
      const filters = parseAccountFilters(config.filters)
      checkMinContextSlot(config, chain.slot)
      const accounts = chain.knownAccounts().filter(account => account.owner === program && matchesFilters(account, filters))
      const value = keyedAccounts(accounts, config)
      return config.withContext === true ? { context: { slot: chain.slot }, value } : value
    },
    getTokenAccountsByOwner: params => {
      const owner = addressParam(params, 0)
      const filter = configParam(params, 1)
      const config = configParam(params, 2)
      assertAccountEncoding(config)
      let programs: string[]
      let mint: Uint8Array | undefined
      if (typeof filter.mint === 'string') {
        const mintAccount = chain.getAccount(addressParam([filter.mint], 0))
        if (mintAccount == null || !isTokenProgram(mintAccount.owner)) {
          throw new JsonRpcError(INVALID_PARAMS, 'Invalid param: could not find mint')
        }
        programs = [mintAccount.owner]
        mint = decodeBase58(filter.mint)
      } else if (typeof filter.programId === 'string') {
        if (!isTokenProgram(filter.programId)) {
          throw new JsonRpcError(INVALID_PARAMS, 'Invalid param: unrecognized Token program id')
        }
        programs = [filter.programId]
      } else {
        throw invalidParams('expected { mint } or { programId } at position 1')
      }
      const ownerBytes = decodeBase58(owner)
      return withContext(config, () => keyedAccounts(chain.knownAccounts().filter(account => {
        if (!programs.includes(account.owner) || !isTokenAccount(account)) {
          return false
        }
        const fields = tokenAccountMintAndOwner(account)
        return Buffer.from(fields.owner).equals(ownerBytes) && (mint == null || Buffer.from(fields.mint).equals(mint))
      }), config))
    }
  }
}

/** The slots from `start` to `end`, both included (every slot up to the current one has a block). */
function slotRange (start: bigint, end: bigint): bigint[] {
  const out: bigint[] = []
  for (let slot = start; slot <= end; slot++) {
    out.push(slot)
  }
  return out
}

/** Look up and run `method`. */
export function callMethod (methods: Record<string, RpcMethod>, method: string, params: unknown[]): unknown {
  const handler = Object.hasOwn(methods, method) ? methods[method] : undefined
  if (handler == null) {
    throw new JsonRpcError(METHOD_NOT_FOUND, 'Method not found')
  }
  return handler(params)
}
