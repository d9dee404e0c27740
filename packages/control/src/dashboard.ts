import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * The dashboard's login URL: the page's address with the bearer token in the URL fragment.
 * A fragment never leaves the browser (not in a request, not in a `Referer`); the page reads it,
 * keeps it in `sessionStorage` for the tab and sends it as `Authorization: Bearer`, so nothing
 * the browser would attach on its own (a cookie) ever authorises a request.
 */
export function dashboardUrl (controlUrl: string, token: string): string {
  return `${controlUrl.replace(/\/+$/, '')}/#token=${encodeURIComponent(token)}`
}

/** The page's files, shipped in the package's `dashboard/` folder, by the path they are served at. */
const ASSETS: Record<string, { file: string, type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' }
}

/**
 * What the page may do, and what may be done with it: its own scripts and styles only (no inline
 * code, nothing from elsewhere), requests to this origin only, no form posts, no framing (so no
 * other page can overlay it), no referrer, its own browsing-context group.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store'
}

const cache = new Map<string, Buffer>()

async function asset (file: string): Promise<Buffer> {
  let body = cache.get(file)
  if (body == null) {
    // dist/src/dashboard.js -> the package's dashboard/ folder
    body = await readFile(new URL(`../../dashboard/${file}`, import.meta.url))
    cache.set(file, body)
  }
  return body
}

/**
 * Serve the page and its assets (GET or HEAD); false when `url` is not one of them. The page holds
 * no data: everything it shows it reads from `/v1` with the token, so serving it needs none.
 */
export async function serveDashboard (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const found = ASSETS[url.pathname]
  if (found == null || (req.method !== 'GET' && req.method !== 'HEAD')) {
    return false
  }
  const body = await asset(found.file)
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': found.type, 'content-length': body.length })
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}
