/** `n` distinct items (base64, as the control API's job body takes them): `<tag>-0`, `<tag>-1`, ... */
export function items (n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`).toString('base64'))
}
