import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Metrics } from '@libp2p/interface'
import type { PrometheusMetricsComponents, PrometheusMetricsInit } from '@libp2p/prometheus-metrics'
import { register as globalRegistry } from 'prom-client'
import type { Metric, Registry } from 'prom-client'

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
export function meshMetrics (init: Omit<Partial<PrometheusMetricsInit>, 'preserveExistingMetrics'> & { registry: Registry }): (components: PrometheusMetricsComponents) => Metrics {
  // @libp2p/prometheus-metrics keeps one module-wide map of metrics by name, across
  // registries: told to preserve it, a second node in the process would get the first node's
  // metric objects, registered in the first node's registry, and its own registry would stay
  // empty. So it clears that map, for this node's metrics to be its own (the nodes before keep
  // the objects they hold). That also clears prom-client's global registry, which is not ours:
  // whatever an embedder registered there is put back.
  const create = prometheusMetrics({ ...init, preserveExistingMetrics: false })
  return (components) => {
    // (prom-client types these as plain objects; they are the metric instances themselves)
    const kept = globalRegistry.getMetricsAsArray() as unknown as Metric[]
    const metrics = create(components)
    for (const metric of kept) {
      if (globalRegistry.getSingleMetric((metric as unknown as { name: string }).name) == null) {
        globalRegistry.registerMetric(metric)
      }
    }
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
