import { encodeBase58 } from './base58.js'
import type { InnerInstructionsJson } from './types.js'
import type { TransactionMetadata } from 'litesvm'

/** What LiteSVM reports about an execution, in the chain's record shapes. */

export interface ExecutionMeta {
  logMessages: string[]
  computeUnitsConsumed: bigint
  innerInstructions: InnerInstructionsJson[]
  returnData: { programId: string, data: Uint8Array } | null
}

export function executionMeta (meta: TransactionMetadata): ExecutionMeta {
  const innerInstructions: InnerInstructionsJson[] = []
  meta.innerInstructions().forEach((list, index) => {
    if (list.length === 0) {
      return
    }
    innerInstructions.push({
      index,
      instructions: list.map(inner => {
        const instruction = inner.instruction()
        return {
          programIdIndex: instruction.programIdIndex(),
          accounts: [...instruction.accounts()],
          data: encodeBase58(instruction.data()),
          stackHeight: inner.stackHeight()
        }
      })
    })
  })
  const returned = meta.returnData()
  const data = returned.data()
  return {
    logMessages: meta.logs(),
    computeUnitsConsumed: meta.computeUnitsConsumed(),
    innerInstructions,
    returnData: data.length === 0 ? null : { programId: encodeBase58(returned.programId()), data: Uint8Array.from(data) }
  }
}
