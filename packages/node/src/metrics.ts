import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Metrics } from '@libp2p/interface'
import type { PrometheusMetricsComponents, PrometheusMetricsInit } from '@libp2p/prometheus-metrics'
import type { Registry } from 'prom-client'

const REGISTER_METHODS = [
  'registerMetric', 'registerMetricGroup', 'registerCounter', 'registerCounterGroup',
  'registerHistogram', 'registerHistogramGroup', 'registerSummary', 'registerSummaryGroup'
] as const

/** A metric name as @libp2p/prometheus-metrics writes it. */
function promName (name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_')
}

/**
 * libp2p's Prometheus metrics in `registry`, with every HELP line as it was written.
 * `@libp2p/prometheus-metrics` passes the help text through its metric-name filter, so
 * "Lamports paid for anchor transactions" would read `Lamports_paid_for_anchor_transactions`
 * in `/metrics`; each registration puts the text back on the prom-client metric.
 */
export function meshMetrics (init: Partial<PrometheusMetricsInit> & { registry: Registry }): (components: PrometheusMetricsComponents) => Metrics {
  const create = prometheusMetrics(init)
  return (components) => {
    const metrics = create(components)
    for (const method of REGISTER_METHODS) {
      const register = (metrics[method] as (...args: any[]) => any).bind(metrics)
      Object.assign(metrics, {
        [method]: (name: string, options?: { help?: string }): unknown => {
          const metric = register(name, options)
          const registered = init.registry.getSingleMetric(promName(name)) as { help?: string } | undefined
          if (options?.help != null && registered != null) {
            registered.help = options.help
          }
          return metric
        }
      })
    }
    return metrics
  }
}
