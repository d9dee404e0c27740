export { echo, ECHO_MAX_ITEM_BYTES } from './echo.js'
export { sleep } from './sleep.js'
export type { SleepInit } from './sleep.js'
export { bytesCodec, equalBytes } from './bytes-codec.js'
