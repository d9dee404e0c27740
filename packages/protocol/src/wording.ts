/**
 * A count and its noun, singular for exactly one: `plural(1, 'peer')` is "1 peer",
 * `plural(3, 'peer')` is "3 peers". Give the plural when it is not the noun + "s":
 * `plural(2, 'batch', 'batches')`. Every message that counts something uses it.
 */
export function plural (n: number | bigint, singular: string, pluralForm = `${singular}s`): string {
  return `${n} ${Number(n) === 1 ? singular : pluralForm}`
}
