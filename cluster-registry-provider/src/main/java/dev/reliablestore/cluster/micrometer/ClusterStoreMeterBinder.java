package dev.reliablestore.cluster.micrometer;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a store's {@link PerformanceMetrics} to Micrometer. This package is the only place of the
 * provider that touches Micrometer, which is an optional dependency: add {@code micrometer-core}
 * to use it. Meters (all tagged {@code type=<typeName>} plus the given tags):
 * {@code reliablestore.store.reads}, {@code .writes}, {@code .retries}, {@code .conflicts},
 * {@code .cache.hits}, {@code .cache.misses} (function counters);
 * {@code reliablestore.store.read.latency} / {@code .write.latency} with {@code stat=avg|p50|p99}
 * in seconds, {@code reliablestore.store.cache.hit.ratio} and
 * {@code reliablestore.store.compression.ratio} (gauges).
 */
public final class ClusterStoreMeterBinder implements MeterBinder {

    private final EntityStore<?> store;
    private final Tags tags;

    /**
     * @param extraTags more tags, e.g. {@code node=NODE1}; needed to tell apart two factories bound
     *                  into one registry (Micrometer keeps one meter per name and tags)
     */
    public ClusterStoreMeterBinder(EntityStore<?> store, Iterable<Tag> extraTags) {
        this.store = Objects.requireNonNull(store, "store");
        this.tags = Tags.of(extraTags).and("type", store.typeName());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "reliablestore.store.reads", "completed read calls", PerformanceMetrics::reads);
        counter(registry, "reliablestore.store.writes", "completed write calls", PerformanceMetrics::writes);
        counter(registry, "reliablestore.store.retries", "retried attempts after retryable failures", PerformanceMetrics::retries);
        counter(registry, "reliablestore.store.conflicts", "version conflicts, resolved or reported", PerformanceMetrics::conflicts);
        counter(registry, "reliablestore.store.cache.hits", "reads answered by the local cache", PerformanceMetrics::cacheHits);
        counter(registry, "reliablestore.store.cache.misses", "cached lookups that went to the registry", PerformanceMetrics::cacheMisses);
        for (String stat : List.of("avg", "p50", "p99")) {
            gauge(registry, "reliablestore.store.read.latency", stat, m -> seconds(stat.equals("avg") ? m.averageReadLatency()
                    : stat.equals("p50") ? m.p50ReadLatency() : m.p99ReadLatency()));
            gauge(registry, "reliablestore.store.write.latency", stat, m -> seconds(stat.equals("avg") ? m.averageWriteLatency()
                    : stat.equals("p50") ? m.p50WriteLatency() : m.p99WriteLatency()));
        }
        Gauge.builder("reliablestore.store.cache.hit.ratio", store, s -> s.performanceMetrics().cacheHitRatio())
                .tags(tags).description("cache hits over cached lookups").register(registry);
        Gauge.builder("reliablestore.store.compression.ratio", store, s -> s.performanceMetrics().compressionRatio())
                .tags(tags).description("stored bytes over encoded bytes").register(registry);
    }

    private void counter(MeterRegistry registry, String name, String description, ToDoubleFunction<PerformanceMetrics> f) {
        FunctionCounter.builder(name, store, s -> f.applyAsDouble(s.performanceMetrics()))
                .tags(tags).description(description).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String stat, ToDoubleFunction<PerformanceMetrics> f) {
        Gauge.builder(name, store, s -> f.applyAsDouble(s.performanceMetrics())).tags(tags.and("stat", stat))
                .baseUnit("seconds").register(registry);
    }

    private static double seconds(java.time.Duration d) {
        return d.toNanos() / 1e9;
    }
}
