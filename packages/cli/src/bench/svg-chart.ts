/**
 * A small, dependency-free SVG chart writer for benchmark reports: a line chart (one or more
 * series of x/y points) and a bar chart (labelled values). The output is a standalone SVG
 * document (well-formed XML) with axes, ticks, axis labels, a title and a legend; every text
 * given (titles, labels, series names) is escaped, so any string is safe to chart.
 */

/** A chart was asked for with nothing to draw or a value that cannot be drawn. */
export class InvalidChartError extends Error {
  static readonly code = 'ERR_INVALID_CHART'
  readonly code = InvalidChartError.code

  constructor (message: string) {
    super(message)
    this.name = 'InvalidChartError'
  }
}

/** One line of a line chart. */
export interface ChartSeries {
  name: string
  points: Array<{ x: number, y: number }>
  /** draw it dashed (e.g. an ideal or a baseline) */
  dashed?: boolean
}

/** Common options of both charts. */
export interface ChartOptions {
  title: string
  xLabel: string
  yLabel: string
  /** @default 640 */
  width?: number
  /** @default 360 */
  height?: number
}

/** A line chart: series of points over a numeric x axis. */
export interface LineChartOptions extends ChartOptions {
  series: ChartSeries[]
}

/** One bar of a bar chart; `note` is printed above it (default: the value). */
export interface ChartBar {
  label: string
  value: number
  note?: string
}

/** A bar chart: one bar per label. */
export interface BarChartOptions extends ChartOptions {
  bars: ChartBar[]
}

/** The most points or bars a chart takes (a report, not a plot of raw samples). */
export const MAX_CHART_POINTS = 1000

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']
const MARGIN = { top: 40, right: 20, bottom: 50, left: 70 }

/** Text as XML character data or an attribute value (quotes included). */
export function escapeXml (text: string): string {
  return String(text)
    // characters XML 1.0 does not allow at all
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** A number as a short label: `0`, `12`, `1.5`, `0.25`, `12k`, `3.4M`. */
export function formatTick (n: number): string {
  const abs = Math.abs(n)
  if (abs >= 1e6) {
    return `${trim(n / 1e6)}M`
  }
  if (abs >= 1e4) {
    return `${trim(n / 1e3)}k`
  }
  return trim(n)
}

function trim (n: number): string {
  return String(Number(n.toPrecision(3)))
}

/** Round tick values from `min` to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks (min: number, max: number, count = 5): number[] {
  if (max <= min) {
    max = min + (min === 0 ? 1 : Math.abs(min))
  }
  const raw = (max - min) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) ?? 10 * power
  const first = Math.floor(min / step) * step
  const ticks: number[] = []
  for (let t = first; t < max + step * 0.999; t += step) {
    ticks.push(Number(t.toPrecision(12)))
  }
  return ticks
}

function size (options: ChartOptions): { width: number, height: number } {
  const width = options.width ?? 640
  const height = options.height ?? 360
  if (!(width >= 200 && width <= 4000 && height >= 150 && height <= 4000)) {
    throw new InvalidChartError(`chart size ${width}x${height} is outside 200x150..4000x4000`)
  }
  return { width, height }
}

function checkValue (v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidChartError(`${what} is not a finite number: ${String(v)}`)
  }
}

function n (v: number): string {
  return String(Math.round(v * 10) / 10)
}

/** The frame every chart shares: title, axis labels, y grid and ticks. */
function frame (options: ChartOptions, width: number, height: number, yTicks: number[], y: (v: number) => number): string[] {
  const left = MARGIN.left
  const right = width - MARGIN.right
  const bottom = height - MARGIN.bottom
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${n(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<g class="grid" stroke="#e5e5e5">${yTicks.map(t => `<line x1="${left}" x2="${right}" y1="${n(y(t))}" y2="${n(y(t))}"/>`).join('')}</g>`,
    `<g class="y-ticks" text-anchor="end">${yTicks.map(t => `<text x="${left - 6}" y="${n(y(t) + 4)}">${escapeXml(formatTick(t))}</text>`).join('')}</g>`,
    `<g class="axes" stroke="#333333"><line class="x-axis" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/><line class="y-axis" x1="${left}" x2="${left}" y1="${MARGIN.top}" y2="${bottom}"/></g>`,
    `<text class="x-label" x="${n((left + right) / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text class="y-label" x="16" y="${n((MARGIN.top + bottom) / 2)}" text-anchor="middle" transform="rotate(-90 16 ${n((MARGIN.top + bottom) / 2)})">${escapeXml(options.yLabel)}</text>`
  ]
  return out
}

/** A line chart of one or more series, as a standalone SVG document. */
export function lineChart (options: LineChartOptions): string {
  const { width, height } = size(options)
  if (options.series.length === 0 || options.series.every(s => s.points.length === 0)) {
    throw new InvalidChartError(`chart "${options.title}" has no points`)
  }
  const points = options.series.flatMap(s => s.points)
  if (points.length > MAX_CHART_POINTS) {
    throw new InvalidChartError(`chart "${options.title}" has ${points.length} points, more than ${MAX_CHART_POINTS}`)
  }
  points.forEach((p, i) => { checkValue(p.x, `x of point ${i}`); checkValue(p.y, `y of point ${i}`) })
  const xs = points.map(p => p.x)
  const ys = points.map(p => p.y)
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs))
  const yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys))
  const left = MARGIN.left
  const right = width - MARGIN.right
  const bottom = height - MARGIN.bottom
  const xMin = xTicks[0]
  const xMax = xTicks[xTicks.length - 1]
  const yMin = yTicks[0]
  const yMax = yTicks[yTicks.length - 1]
  const x = (v: number): number => left + (v - xMin) / (xMax - xMin) * (right - left)
  const y = (v: number): number => bottom - (v - yMin) / (yMax - yMin) * (bottom - MARGIN.top)
  const out = frame(options, width, height, yTicks, y)
  out.push(`<g class="x-ticks" text-anchor="middle">${xTicks.map(t => `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/><text x="${n(x(t))}" y="${bottom + 18}">${escapeXml(formatTick(t))}</text>`).join('')}</g>`)
  options.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]
    const path = s.points.map(p => `${n(x(p.x))},${n(y(p.y))}`).join(' ')
    out.push(`<g class="series" fill="${colour}" stroke="${colour}"><title>${escapeXml(s.name)}</title>` +
      `<polyline fill="none" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''} points="${path}"/>` +
      s.points.map(p => `<circle cx="${n(x(p.x))}" cy="${n(y(p.y))}" r="3"><title>${escapeXml(`${s.name}: ${formatTick(p.x)}, ${formatTick(p.y)}`)}</title></circle>`).join('') +
      '</g>')
  })
  out.push(legend(options.series.map(s => s.name), left + 10))
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** A bar chart, one bar per label, as a standalone SVG document. */
export function barChart (options: BarChartOptions): string {
  const { width, height } = size(options)
  if (options.bars.length === 0) {
    throw new InvalidChartError(`chart "${options.title}" has no bars`)
  }
  if (options.bars.length > MAX_CHART_POINTS) {
    throw new InvalidChartError(`chart "${options.title}" has ${options.bars.length} bars, more than ${MAX_CHART_POINTS}`)
  }
  options.bars.forEach((b, i) => { checkValue(b.value, `value of bar ${i}`) })
  const values = options.bars.map(b => b.value)
  const yTicks = niceTicks(Math.min(0, ...values), Math.max(...values))
  const left = MARGIN.left
  const right = width - MARGIN.right
  const bottom = height - MARGIN.bottom
  const yMin = yTicks[0]
  const yMax = yTicks[yTicks.length - 1]
  const y = (v: number): number => bottom - (v - yMin) / (yMax - yMin) * (bottom - MARGIN.top)
  const out = frame(options, width, height, yTicks, y)
  const slot = (right - left) / options.bars.length
  const barWidth = Math.max(2, slot * 0.6)
  out.push('<g class="bars">')
  options.bars.forEach((b, i) => {
    const colour = COLOURS[i % COLOURS.length]
    const cx = left + slot * (i + 0.5)
    const top = y(Math.max(0, b.value))
    const h = Math.abs(y(b.value) - y(0))
    out.push(`<rect x="${n(cx - barWidth / 2)}" y="${n(top)}" width="${n(barWidth)}" height="${n(h)}" fill="${colour}"><title>${escapeXml(`${b.label}: ${formatTick(b.value)}`)}</title></rect>` +
      `<text x="${n(cx)}" y="${n(top - 4)}" text-anchor="middle">${escapeXml(b.note ?? formatTick(b.value))}</text>` +
      `<text x="${n(cx)}" y="${bottom + 18}" text-anchor="middle">${escapeXml(b.label)}</text>`)
  })
  out.push('</g>')
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function legend (names: string[], x: number): string {
  return `<g class="legend">${names.map((name, i) => {
    const colour = COLOURS[i % COLOURS.length]
    const y = MARGIN.top + 6 + i * 16
    return `<rect x="${x}" y="${y}" width="10" height="10" fill="${colour}"/><text x="${x + 14}" y="${y + 9}">${escapeXml(name)}</text>`
  }).join('')}</g>`
}
