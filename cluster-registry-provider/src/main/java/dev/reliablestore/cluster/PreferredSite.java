package dev.reliablestore.cluster;

import dev.reliablestore.options.Durations;
import dev.reliablestore.registry.ClusterRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The site that answers a factory's preferred reads (docs/geo-replication.md, Reads), when it is
 * another site than the factory's own. Its registry is opened on a thread of its own, tried again
 * after a pause until it opens (a site that takes its connection timeout to answer holds up nothing
 * else); until then the local site answers. A read that finds it unreachable makes it "away": the
 * local site answers for a pause that doubles with each failure in a row ({@link #AWAY} up to
 * {@link #MAX_AWAY}); then one read at a time tries it again while the others are answered locally,
 * until one succeeds.
 */
final class PreferredSite implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PreferredSite.class);
    /** The first pause after a read found the site unreachable, and the first pause between attempts to open it. */
    static final Duration AWAY = Duration.ofSeconds(1);
    /** The longest pause. */
    static final Duration MAX_AWAY = Duration.ofSeconds(30);
    /**
     * How long one read waits for the preferred site's registry, where its backend has the option and
     * {@code sites.<site>.registry.failoverTimeout} does not set it: a read that the local site could
     * answer should not wait the store's failover timeout for another site.
     */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(1);

    /** One type's records and envelopes at the preferred site. */
    record Reader(EntityRecords records, EntityValues values) {
    }

    /** What reads need of the site once its registry is open, published at once. */
    private record Opened(SharedRegistries.Hold hold, RegistryGateway gateway, EnvelopeCodec envelopes) {
    }

    private final String name;
    private final ClusterPersistenceConfiguration config;
    private final StorageLayout layout;
    private final RegistryTransactions transactions;
    private final Executor background;
    private final Thread opener;
    private final Map<String, Reader> readers = new ConcurrentHashMap<>();
    private volatile Opened opened;
    /** Under this: failures in a row, and until when (System.nanoTime) the site is left alone. */
    private int failures;
    private long awayUntil;
    /** Whether a read is trying the site again after it was away (the others are answered locally meanwhile). */
    private final AtomicBoolean probing = new AtomicBoolean();
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

    /** The site's registry options: its own, with {@link #READ_TIMEOUT} as failover timeout unless they or its URI's query set one. */
    private Map<String, String> options(String uri) {
        Set<String> accepts = ClusterRegistries.optionNames(uri);
        Map<String, String> options = new LinkedHashMap<>(config.siteRegistryOptions(name, accepts));
        if (accepts.contains(ClusterPersistenceConfiguration.FAILOVER_TIMEOUT)
                && !config.siteRegistryOptions(name, Set.of()).containsKey(ClusterPersistenceConfiguration.FAILOVER_TIMEOUT)
                && !ClusterRegistries.queryOptionNames(uri).contains(ClusterPersistenceConfiguration.FAILOVER_TIMEOUT)) {
            Duration store = config.failoverTimeout();
            options.put(ClusterPersistenceConfiguration.FAILOVER_TIMEOUT, Durations.format(store.compareTo(READ_TIMEOUT) < 0 ? store : READ_TIMEOUT));
        }
        return options;
    }

    private void open() {
        String uri = config.sites().get(name);
        String shown = ClusterRegistries.redact(uri); // a literal digest or TLS password in the query is never logged
        long pause = AWAY.toMillis();
        boolean told = false;
        while (!closed) {
            SharedRegistries.Hold h = null;
            try {
                h = SharedRegistries.hold(uri, options(uri));
                // one attempt per read: a site that does not answer is away, and the local site answers
                RegistryGateway g = new RegistryGateway(h.registry(), new Retrier(0, Duration.ZERO, Duration.ZERO, shown),
                        config.replicationMode(), 1, RegistryGateway.serving(h.registry().status()));
                EnvelopeCodec e = SiteLinks.envelopes(config, name, g, layout, shown, background, false);
                synchronized (this) {
                    if (closed) {
                        break;
                    }
                    opened = new Opened(h, g, e);
                    h = null;
                }
                LOG.info("preferred reads go to site {} ({})", name, shown);
                return;
            } catch (RuntimeException e) {
                if (!told) {
                    LOG.warn("preferred site {} ({}) cannot be reached yet, the local site answers its reads meanwhile: {}", name, shown, e.getMessage());
                    told = true;
                } else {
                    LOG.debug("preferred site {} ({}) cannot be reached yet: {}", name, shown, e.getMessage());
                }
            } finally {
                if (h != null) {
                    h.close();
                }
            }
            try {
                Thread.sleep(pause); // a pause between attempts, not a wait for a condition
            } catch (InterruptedException e) {
                return;
            }
            pause = Math.min(pause * 2, MAX_AWAY.toMillis());
        }
    }

    /**
     * The reader of {@code type} at the preferred site, or empty while the site cannot answer. A
     * read given a reader tells {@link #answered()} or {@link #away} how it went.
     */
    Optional<Reader> reader(String type) {
        Opened o = opened;
        if (o == null || closed) {
            return Optional.empty();
        }
        synchronized (this) {
            if (failures > 0) {
                if (System.nanoTime() - awayUntil < 0 || !probing.compareAndSet(false, true)) {
                    return Optional.empty();
                }
            }
        }
        return Optional.of(readers.computeIfAbsent(type, t -> {
            EntityRecords records = new EntityRecords(o.gateway(), layout, transactions.locksOf(t), t, () -> { });
            return new Reader(records, new DecodedRecords(records, o.envelopes()));
        }));
    }

    /** Whether a read made now would be tried at the preferred site. */
    boolean answering() {
        if (opened == null || closed) {
            return false;
        }
        synchronized (this) {
            return failures == 0 || System.nanoTime() - awayUntil >= 0;
        }
    }

    /** A read given a reader was answered by the site. */
    void answered() {
        synchronized (this) {
            failures = 0;
        }
        probing.set(false);
    }

    /** A read given a reader found the site unreachable: the local site answers for a pause that grows with each failure in a row. */
    void away(RuntimeException why) {
        long pause;
        int inARow;
        synchronized (this) {
            inARow = ++failures;
            pause = Math.min(AWAY.toNanos() << Math.min(inARow - 1, 5), MAX_AWAY.toNanos());
            awayUntil = System.nanoTime() + pause;
        }
        probing.set(false);
        LOG.debug("preferred site {} did not answer ({} in a row), the local site answers for {} ms: {}", name, inARow,
                pause / 1_000_000, why.getMessage());
    }

    @Override
    public void close() {
        Opened o;
        synchronized (this) {
            closed = true;
            o = opened;
            opened = null;
        }
        opener.interrupt();
        if (o != null) {
            o.hold().close();
        }
    }
}
