/**
 * The dashboard's login URL: the page's address with the bearer token in the URL fragment.
 * A fragment never leaves the browser (not in a request, not in a `Referer`); the page reads it,
 * keeps it in `sessionStorage` for the tab and sends it as `Authorization: Bearer`, so nothing
 * the browser would attach on its own (a cookie) ever authorises a request.
 */
export function dashboardUrl (controlUrl: string, token: string): string {
  return `${controlUrl.replace(/\/+$/, '')}/#token=${encodeURIComponent(token)}`
}
