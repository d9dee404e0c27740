/** `<dataDir>/control.json`: where a running node's control API listens (`ControlInfo`). */
export const CONTROL_FILE = 'control.json'

/** `<dataDir>/control.token`: the bearer token of the `/v1` routes (mode 0600). */
export const TOKEN_FILE = 'control.token'

/** Largest JSON request body, but POST /v1/jobs's (bytes). */
export const MAX_BODY = 16 * 1024

/** Largest POST /v1/jobs body: the items travel inline, base64 (bytes). */
export const MAX_JOB_BODY = 256 * 1024 * 1024

/** Most receipts one GET /v1/receipts page lists. */
export const MAX_LIST = 10_000

/** How long POST /v1/receipts/flush waits for every receipt to be anchored, unless asked (ms). */
export const FLUSH_TIMEOUT = 120_000

/** How long POST /v1/receipts/pull waits for its round of the receipt-proof pull, unless asked (ms). */
export const PULL_TIMEOUT = 60_000

/** How long the client waits for an answer, but a flush's (ms). */
export const REQUEST_TIMEOUT = 30_000

/** How long the client waits for a plan that runs challenges first (ms): a challenge's deadline and then some. */
export const PLAN_TIMEOUT = 120_000

/** How long GET /v1/receipts/batches/ROOT/bundle?from=PEER waits for the peer's bundle, checked (ms). */
export const BATCH_FETCH_TIMEOUT = 90_000
