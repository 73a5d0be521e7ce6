package dev.reliablestore.cluster.micrometer;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.SiteShipping;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Objects;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a multi-site factory's shipping to Micrometer ({@link ClusterStoreAdmin#siteShipping}),
 * per other site, tagged {@code site=<this site>} and {@code target=<other site>} plus the given tags:
 * {@code reliablestore.site.replication.lag} (gauge, seconds: how long the oldest of this site's
 * batches waiting in the shipper has waited; NaN while this factory does not ship to the target),
 * {@code reliablestore.site.shipping} (gauge, 1 while this factory ships to the target, else 0) and
 * {@code reliablestore.site.shipped} (function counter: batches applied at the target). Of a site's
 * factories only the holder of the shipper lease ships, so the lag is published by one of them.
 * A factory without sites publishes nothing.
 */
public final class SiteMeterBinder implements MeterBinder {

    private final StoreFactory factory;
    private final Tags tags;

    /**
     * @param factory   a cluster-registry factory
     * @param extraTags more tags, e.g. {@code node=NODE1}; needed to tell apart two factories bound
     *                  into one registry (Micrometer keeps one meter per name and tags)
     * @throws IllegalArgumentException when {@code factory} is not a cluster-registry factory
     */
    public SiteMeterBinder(StoreFactory factory, Iterable<Tag> extraTags) {
        ClusterStoreAdmin.siteShipping(Objects.requireNonNull(factory, "factory")); // refuses another provider's factory now
        this.factory = factory;
        this.tags = Tags.of(extraTags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (SiteShipping link : ClusterStoreAdmin.siteShipping(factory)) {
            Tags linkTags = tags.and("site", link.site(), "target", link.target());
            String target = link.target();
            Gauge.builder("reliablestore.site.replication.lag", factory,
                            f -> of(f, target, s -> s.lag().map(d -> d.toNanos() / 1e9).orElse(Double.NaN)))
                    .tags(linkTags).baseUnit("seconds").description("how long the oldest batch waiting to be shipped to the target has waited")
                    .register(registry);
            Gauge.builder("reliablestore.site.shipping", factory, f -> of(f, target, s -> s.running() ? 1 : 0))
                    .tags(linkTags).description("1 while this factory ships to the target").register(registry);
            FunctionCounter.builder("reliablestore.site.shipped", factory, f -> of(f, target, s -> s.shipped()))
                    .tags(linkTags).description("batches applied at the target").register(registry);
        }
    }

    private static double of(StoreFactory factory, String target, ToDoubleFunction<SiteShipping> f) {
        Optional<SiteShipping> link = ClusterStoreAdmin.siteShipping(factory).stream().filter(s -> s.target().equals(target)).findFirst();
        return link.map(f::applyAsDouble).orElse(Double.NaN);
    }
}
