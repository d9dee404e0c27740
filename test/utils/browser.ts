import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser, LaunchOptions } from 'playwright-core'

/** The Debian package's browser, where `.ci/run` installs it when it is missing. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium'

/** What the browser specs print, once, when they are skipped for want of a browser. */
export const NO_BROWSER = 'browser tests SKIPPED: no chromium; install it with `sudo apt-get install chromium` or set SHARDMESH_CHROMIUM'

/** Where the browser the specs drive was found, or why none was. */
export type ChromiumLookup = { path: string } | { path: null, reason: string }

function executable (path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Chromium the browser specs drive (playwright-core never downloads one): `$SHARDMESH_CHROMIUM`
 * when set (a path that is not an executable is not replaced by another), else the Debian
 * package's `/usr/bin/chromium`, else `chromium` on `PATH`.
 */
export function findChromium (env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const chosen = env.SHARDMESH_CHROMIUM
  if (chosen != null && chosen !== '') {
    return executable(chosen) ? { path: chosen } : { path: null, reason: `SHARDMESH_CHROMIUM=${chosen} is not an executable` }
  }
  if (executable(DEBIAN_CHROMIUM)) {
    return { path: DEBIAN_CHROMIUM }
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, 'chromium'))) {
      return { path: join(dir, 'chromium') }
    }
  }
  return { path: null, reason: `neither ${DEBIAN_CHROMIUM} nor chromium on PATH` }
}

/**
 * For a browser spec's `before()` (call it as `requireBrowser(this)`): the browser's path; or,
 * when there is none, one loud line on stderr and the suite skipped. In CI (`CI=true`) a missing
 * browser fails the suite instead: `.ci/run` installs it, so the browser tests always run there.
 */
export function requireBrowser (context: Mocha.Context): string {
  const found = findChromium()
  if (found.path != null) {
    return found.path
  }
  if (process.env.CI === 'true') {
    throw new Error(`no chromium in CI (${found.reason}): .ci/run installs the Debian package; the browser tests must run there`)
  }
  process.stderr.write(`${NO_BROWSER} (${found.reason})\n`)
  context.skip()
}

/**
 * A headless Chromium driven by playwright-core: the one `findChromium()` finds (throws when there
 * is none), `--no-sandbox` when this process runs as root (Chromium refuses to start sandboxed
 * as root). `args` are added to its command line (e.g. `--host-resolver-rules=...`).
 */
export async function launchBrowser (options: { args?: string[] } & Pick<LaunchOptions, 'timeout'> = {}): Promise<Browser> {
  const found = findChromium()
  if (found.path == null) {
    throw new Error(`${NO_BROWSER} (${found.reason})`)
  }
  const root = process.getuid?.() === 0
  return chromium.launch({
    executablePath: found.path,
    headless: true,
    timeout: options.timeout,
    args: [...(root ? ['--no-sandbox'] : []), ...(options.args ?? [])]
  })
}
