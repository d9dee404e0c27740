import assert from 'node:assert/strict'
import { InvalidChartError, barChart, escapeXml, formatTick, lineChart, niceTicks } from '../src/bench/svg-chart.js'
import { MalformedXmlError, checkWellFormedXml } from '../src/bench/xml-check.js'

const HOSTILE = '<script>alert("x")</script> & \'quotes\' ]]> \u0001'

describe('svg charts', () => {
  it('a line chart is a well-formed SVG with axes, ticks, labels and one polyline per series', () => {
    const svg = lineChart({
      title: 'throughput',
      xLabel: 'peers',
      yLabel: 'items/s',
      series: [
        { name: 'measured', points: [{ x: 1, y: 10 }, { x: 2, y: 19 }, { x: 4, y: 35 }] },
        { name: 'ideal', points: [{ x: 1, y: 10 }, { x: 2, y: 20 }, { x: 4, y: 40 }], dashed: true }
      ]
    })
    assert.equal(checkWellFormedXml(svg), 'svg')
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    assert.match(svg, /class="x-axis"/)
    assert.match(svg, /class="y-axis"/)
    assert.match(svg, /class="x-label"[^>]*>peers</)
    assert.match(svg, /class="y-label"[^>]*>items\/s</)
    assert.equal(svg.match(/<polyline /g)?.length, 2)
    assert.equal(svg.match(/stroke-dasharray/g)?.length, 1)
    assert.equal(svg.match(/<circle /g)?.length, 6)
    // y ticks from 0 to at least the largest value
    assert.match(svg, />0<\/text>/)
    assert.match(svg, />40<\/text>/)
    assert.match(svg, />measured<\/text>/)
  })

  it('a bar chart is a well-formed SVG with one bar, value and label per bar', () => {
    const svg = barChart({
      title: 'per-shard overhead',
      xLabel: 'run',
      yLabel: 'ms',
      bars: [{ label: 'one shard', value: 12.5 }, { label: '64 shards', value: 80, note: '80 ms' }]
    })
    assert.equal(checkWellFormedXml(svg), 'svg')
    assert.equal(svg.match(/<rect x=/g)?.length, 2)
    assert.match(svg, />12\.5<\/text>/)
    assert.match(svg, />80 ms<\/text>/)
    assert.match(svg, />64 shards<\/text>/)
  })

  it('escapes every text given: titles, labels, series names, bar labels and notes', () => {
    const line = lineChart({ title: HOSTILE, xLabel: HOSTILE, yLabel: HOSTILE, series: [{ name: HOSTILE, points: [{ x: 0, y: 1 }] }] })
    const bars = barChart({ title: HOSTILE, xLabel: HOSTILE, yLabel: HOSTILE, bars: [{ label: HOSTILE, value: 1, note: HOSTILE }] })
    for (const svg of [line, bars]) {
      assert.equal(checkWellFormedXml(svg), 'svg')
      assert.ok(!svg.includes('<script'))
      assert.ok(svg.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos; ]]&gt;'))
      assert.ok(!svg.includes('\u0001'))
    }
    assert.equal(escapeXml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&apos;')
  })

  it('refuses what it cannot draw: no points, non-finite values, too many points, odd sizes', () => {
    const base = { title: 't', xLabel: 'x', yLabel: 'y' }
    assert.throws(() => lineChart({ ...base, series: [] }), (err: any) => err instanceof InvalidChartError && err.code === InvalidChartError.code)
    assert.throws(() => lineChart({ ...base, series: [{ name: 's', points: [] }] }), InvalidChartError)
    assert.throws(() => lineChart({ ...base, series: [{ name: 's', points: [{ x: 1, y: NaN }] }] }), /not a finite number/)
    assert.throws(() => lineChart({ ...base, series: [{ name: 's', points: Array.from({ length: 1001 }, (_, i) => ({ x: i, y: i })) }] }), /more than 1000/)
    assert.throws(() => barChart({ ...base, bars: [] }), InvalidChartError)
    assert.throws(() => barChart({ ...base, bars: [{ label: 'a', value: Infinity }] }), InvalidChartError)
    assert.throws(() => barChart({ ...base, width: 10, bars: [{ label: 'a', value: 1 }] }), /outside/)
  })

  it('draws a single point, equal values and negative values', () => {
    for (const svg of [
      lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 3, y: 0 }] }] }),
      lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 1, y: 5 }, { x: 1, y: 5 }] }] }),
      barChart({ title: 't', xLabel: 'x', yLabel: 'y', bars: [{ label: 'a', value: -2 }, { label: 'b', value: 3 }] })
    ]) {
      assert.equal(checkWellFormedXml(svg), 'svg')
      assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'))
    }
  })

  it('ticks are round numbers covering the range; labels are short', () => {
    assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10])
    assert.deepEqual(niceTicks(1, 4), [1, 2, 3, 4])
    assert.deepEqual(niceTicks(0, 0.9), [0, 0.2, 0.4, 0.6, 0.8, 1])
    const ticks = niceTicks(0, 37)
    assert.ok(ticks[0] <= 0 && ticks[ticks.length - 1] >= 37)
    assert.equal(formatTick(0.25), '0.25')
    assert.equal(formatTick(12_000), '12k')
    assert.equal(formatTick(3_400_000), '3.4M')
    assert.equal(formatTick(1 / 3), '0.333')
  })
})

describe('xml well-formedness check', () => {
  it('accepts a well-formed document', () => {
    assert.equal(checkWellFormedXml('<?xml version="1.0"?>\n<!-- c --><a x="1" y=\'2\'><b/>t &amp; &#60; &#x3c;<![CDATA[<raw>]]></a>\n'), 'a')
  })

  it('refuses malformed documents', () => {
    for (const bad of [
      '',
      'text',
      '<a>',
      '<a></b>',
      '<a><b></a></b>',
      '<a x=1/>',
      '<a x="1" x="2"/>',
      '<a>&nbsp;</a>',
      '<a>& </a>',
      '<a/><b/>',
      '<a>x</a>y',
      '<a x="<"/>',
      '<1a/>'
    ]) {
      assert.throws(() => checkWellFormedXml(bad), MalformedXmlError, JSON.stringify(bad))
    }
  })
})
