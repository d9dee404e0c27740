import { ADDRESS_LOOKUP_TABLE_PROGRAM, SYSTEM_PROGRAM } from './constants.js'
import { ChainTransactionError } from './errors.js'
import { describeTransactionError } from './tx-error.js'
import { isStaticWritable, lookupTableAddresses } from './wire.js'
import type { AccountState, TransactionErrorJson } from './types.js'
import type { CompiledMessage } from './wire.js'

/** The accounts a transaction names: its static keys, then those it loads from address lookup tables. */
export interface ResolvedKeys {
  /** static keys, then loaded writable keys, then loaded readonly keys (JSON-RPC's order) */
  all: string[]
  /** the keys the transaction may write */
  writable: string[]
  loaded: { writable: string[], readonly: string[] }
}

/** A refusal with Solana's error and message. */
export function refused (err: TransactionErrorJson, logs: string[] | null = null, unitsConsumed: bigint | null = null): ChainTransactionError {
  return new ChainTransactionError(describeTransactionError(err), err, logs, unitsConsumed)
}

/** Resolve `message`'s keys, reading lookup tables with `readAccount`; a missing table or index is refused as Solana refuses it. */
export function resolveKeys (message: CompiledMessage, readAccount: (address: string) => AccountState | null): ResolvedKeys {
  const all: string[] = [...message.staticAccounts]
  const writable = all.filter((_, i) => isStaticWritable(message, i))
  const loaded = { writable: [] as string[], readonly: [] as string[] }
  for (const lookup of message.addressTableLookups) {
    const table = readAccount(lookup.lookupTableAddress)
    if (table == null) {
      throw refused('AddressLookupTableNotFound')
    }
    if (table.owner !== ADDRESS_LOOKUP_TABLE_PROGRAM) {
      throw refused('InvalidAddressLookupTableOwner')
    }
    const addresses = lookupTableAddresses(table.data)
    const pick = (index: number): string => {
      const address = addresses[index]
      if (address == null) {
        throw refused('InvalidAddressLookupTableIndex')
      }
      return address
    }
    loaded.writable.push(...lookup.writableIndexes.map(pick))
    loaded.readonly.push(...lookup.readonlyIndexes.map(pick))
  }
  all.push(...loaded.writable, ...loaded.readonly)
  writable.push(...loaded.writable)
  return { all, writable, loaded }
}

/** The post-state recorded for an account a transaction closed (replaying it removes the account). */
export function closedAccount (address: string): AccountState {
  return { address, lamports: 0n, owner: SYSTEM_PROGRAM, data: new Uint8Array(0), executable: false, rentEpoch: 0n }
}
