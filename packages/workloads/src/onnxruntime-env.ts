import { isMainThread } from 'node:worker_threads'

/**
 * onnxruntime-node 1.30 on Linux starts Microsoft's telemetry (the 1DS SDK) with its first
 * session: it writes `mat-debug-<pid>.log` and `.ses` into the OS temp directory and a device
 * id and an event database under `~/.cache/Microsoft/DeveloperTools/.onnxruntime`, and leaves
 * them all behind. Its one off switch is `ORT_DISABLE_TELEMETRY=1` in the process environment,
 * read when the first session is created. Only the main thread can set that environment (a
 * worker thread's `process.env` is its own copy, which native code never sees), so the pool
 * calls this before it starts a thread, and each onnxruntime kernel before its first session
 * (for kernels created on the main thread). An operator's own setting is left as it is.
 */
export function disableOnnxRuntimeTelemetry (): void {
  if (isMainThread && process.env.ORT_DISABLE_TELEMETRY == null) {
    process.env.ORT_DISABLE_TELEMETRY = '1'
  }
}
