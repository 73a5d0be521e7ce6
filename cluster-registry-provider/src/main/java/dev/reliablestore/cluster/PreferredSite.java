package dev.reliablestore.cluster;

import dev.reliablestore.registry.ClusterRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The site that answers a factory's preferred reads (docs/geo-replication.md, Reads), when it is
 * another site than the factory's own. Its registry is opened on a thread of its own, tried again
 * every second until it opens (a site that takes its connection timeout to answer holds up nothing
 * else); until then, and for a second after a read found it unreachable, it answers nothing and
 * the local site does.
 */
final class PreferredSite implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PreferredSite.class);
    /** How long a site that a read found unreachable is left alone, and the pause between attempts to open it. */
    static final Duration AWAY = Duration.ofSeconds(1);

    /** One type's records and envelopes at the preferred site. */
    record Reader(EntityRecords records, EntityValues values) {
    }

    private final String name;
    private final ClusterPersistenceConfiguration config;
    private final StorageLayout layout;
    private final RegistryTransactions transactions;
    private final Executor background;
    private final Thread opener;
    private final Map<String, Reader> readers = new ConcurrentHashMap<>();
    private volatile SharedRegistries.Hold hold;
    private volatile RegistryGateway gateway;
    private volatile EnvelopeCodec envelopes;
    /** Until when (System.nanoTime) the site is left alone after a read found it unreachable; 0: not. */
    private volatile long awayUntil;
    private volatile boolean closed;

    PreferredSite(ClusterPersistenceConfiguration config, String name, StorageLayout layout, RegistryTransactions transactions,
                  Executor background) {
        this.name = name;
        this.config = config;
        this.layout = layout;
        this.transactions = transactions;
        this.background = background;
        this.opener = new Thread(this::open, "reliablestore-preferred-site-" + name);
        opener.setDaemon(true);
        opener.start();
    }

    String name() {
        return name;
    }

    private void open() {
        String uri = config.sites().get(name);
        while (!closed) {
            SharedRegistries.Hold h = null;
            try {
                h = SharedRegistries.hold(uri, config.siteRegistryOptions(name, ClusterRegistries.optionNames(uri)));
                // one attempt per read: a site that does not answer at once is away, and the local site answers
                RegistryGateway g = new RegistryGateway(h.registry(), new Retrier(0, Duration.ZERO, Duration.ZERO, uri),
                        config.replicationMode(), 1, RegistryGateway.serving(h.registry().status()));
                EnvelopeCodec e = SiteLinks.envelopes(config, name, g, layout, uri, background);
                synchronized (this) {
                    if (closed) {
                        break;
                    }
                    gateway = g;
                    envelopes = e;
                    hold = h;
                    h = null;
                }
                LOG.info("preferred reads go to site {} ({})", name, uri);
                return;
            } catch (RuntimeException e) {
                LOG.warn("preferred site {} ({}) cannot be reached yet, the local site answers its reads: {}", name, uri, e.getMessage());
            } finally {
                if (h != null) {
                    h.close();
                }
            }
            try {
                Thread.sleep(AWAY.toMillis()); // a pause between attempts, not a wait for a condition
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The reader of {@code type} at the preferred site, or empty while the site cannot answer. */
    Optional<Reader> reader(String type) {
        RegistryGateway g = gateway;
        if (g == null || closed || System.nanoTime() - awayUntil < 0) {
            return Optional.empty();
        }
        return Optional.of(readers.computeIfAbsent(type, t -> {
            EntityRecords records = new EntityRecords(g, layout, transactions.locksOf(t), t, () -> { });
            return new Reader(records, new DecodedRecords(records, envelopes));
        }));
    }

    /** A read found the site unreachable: the local site answers for a while. */
    void away(RuntimeException why) {
        awayUntil = System.nanoTime() + AWAY.toNanos();
        LOG.debug("preferred site {} did not answer, the local site answers for {}: {}", name, AWAY, why.getMessage());
    }

    @Override
    public void close() {
        SharedRegistries.Hold h;
        synchronized (this) {
            closed = true;
            h = hold;
            hold = null;
        }
        opener.interrupt();
        if (h != null) {
            h.close();
        }
    }
}
