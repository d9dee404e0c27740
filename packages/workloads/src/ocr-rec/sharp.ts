import type Sharp from 'sharp'

let loading: Promise<typeof Sharp> | undefined

/**
 * sharp (libvips, about 0.15 s of CPU to load), loaded on first use: a node that never reads or
 * makes an OCR line image (one serving only echo, say) never loads it. On glibc, sharp must be
 * loaded on the main thread before any worker thread loads it (a thread that unloads it can
 * crash the process): the `ocr-rec` kernel names it in `mainThreadFirst`, so the pool imports
 * it here on the main thread before any of its threads runs the kernel.
 */
export async function loadSharp (): Promise<typeof Sharp> {
  loading ??= import('sharp').then(mod => mod.default)
  return loading
}
