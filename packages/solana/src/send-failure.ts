import {
  SOLANA_ERROR__JSON_RPC__INTERNAL_ERROR,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY,
  SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED,
  SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  isSolanaError
} from '@solana/kit'

/**
 * What a failed send means for an anchor, whoever refused it: a JSON-RPC node (a kit
 * `SolanaError`, its preflight cause, its logs) or the embedded chain (an error carrying the
 * Solana `transactionError`).
 */

export type SendFailure = 'already-processed' | 'unfunded' | 'blockhash-not-found' | 'transport' | 'rejected'

/** Every SolanaError code and every line of text (messages, server messages, logs) in an error's cause chain. */
function errorFacts (err: unknown): { codes: Set<number>, text: string } {
  const codes = new Set<number>()
  const text: string[] = []
  for (let e: any = err, depth = 0; e != null && depth < 8; e = e.cause, depth++) {
    if (isSolanaError(e)) {
      codes.add(e.context.__code)
      const context: any = e.context
      if (typeof context.__serverMessage === 'string') {
        text.push(context.__serverMessage)
      }
      if (Array.isArray(context.logs)) {
        text.push(...context.logs.filter((line: unknown) => typeof line === 'string'))
      }
    }
    if (!isSolanaError(e) && Array.isArray(e.logs)) {
      // the embedded chain's error carries the program logs (e.g. `Transfer: insufficient lamports`)
      text.push(...e.logs.filter((line: unknown) => typeof line === 'string'))
    }
    if (typeof e.transactionError === 'string') {
      text.push(e.transactionError)
    } else if (typeof e.transactionError === 'object' && e.transactionError != null) {
      text.push(...Object.keys(e.transactionError))
    }
    if (typeof e.message === 'string') {
      text.push(e.message)
    }
  }
  return { codes, text: text.join('\n') }
}

/** What a failed sendTransaction means for the anchor. */
export function classifySendError (err: unknown): SendFailure {
  const { codes, text } = errorFacts(err)
  if (codes.has(SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED) || /already (been )?processed|AlreadyProcessed/i.test(text)) {
    return 'already-processed'
  }
  // an account other than the fee payer (#0) left below rent: a new payee paid less than the
  // rent-exempt minimum (settlement). No funds of ours would help: the transaction is refused as made
  const rent = /account \((\d+)\) with insufficient funds for rent/i.exec(text)
  if (rent != null && rent[1] !== '0') {
    return 'rejected'
  }
  if (codes.has(SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE) || codes.has(SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND) ||
    /insufficient (funds|lamports)|InsufficientFundsForFee|AccountNotFound|no record of a prior credit/i.test(text)) {
    return 'unfunded'
  }
  if (codes.has(SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND) || /blockhash not found|BlockhashNotFound/i.test(text)) {
    return 'blockhash-not-found'
  }
  if ((!isSolanaError(err) && (err as any)?.transactionError == null) || codes.has(SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR) || codes.has(SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY) ||
    codes.has(SOLANA_ERROR__JSON_RPC__INTERNAL_ERROR)) {
    return 'transport'
  }
  return 'rejected'
}

/**
 * A refused send in words: the error's message and the distinct messages down its cause chain
 * (a JSON-RPC node's "Transaction simulation failed" says why only in its cause).
 */
export function describeSendError (err: unknown): string {
  const parts: string[] = []
  for (let e: any = err, depth = 0; e != null && depth < 8; e = e.cause, depth++) {
    const message = typeof e.message === 'string' ? e.message : typeof e === 'string' ? e : undefined
    if (message != null && message !== '' && !parts.includes(message)) {
      parts.push(message)
    }
  }
  return parts.length === 0 ? String(err) : parts.join(': ')
}
