package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The shippers of a factory at a site (docs/geo-replication.md): one per other site, each started
 * once that site's registry opens — at once if it is reachable, else retried in the background
 * with the health fault {@code site-unreachable-<site>} raised on the local registry meanwhile, so
 * a site that is down when the factory opens never keeps it from opening.
 *
 * <p>One factory per site and store in a process ships (a second is refused): two would ship every
 * batch twice, which the targets' ledgers make harmless but not free. Factories of one site in
 * several processes each ship; the ledger applies every batch once, and a conflict may then be
 * reported by each of them.
 */
final class SiteLinks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SiteLinks.class);
    /** The sites shipping in this process: local registry URI + root. */
    private static final Set<String> SHIPPING = ConcurrentHashMap.newKeySet();
    /** A target that refuses (or a lag above it) this long raises {@code site-behind-<site>}, unless the gathering delay is longer. */
    static final Duration BEHIND_AFTER = Duration.ofSeconds(30);
    /** The pause between attempts to reach a site or to ship to it, at least. */
    static final Duration MIN_RETRY_PAUSE = Duration.ofMillis(50);

    private final ClusterPersistenceConfiguration config;
    private final SiteReplication.Site local;
    private final SiteReplication.Pace pace;
    private final Executor background;
    private final Consumer<StoreEvent.ConflictResolved> conflicts;
    private final String shippingKey;
    private final Map<String, Target> targets = new LinkedHashMap<>();
    private final Object lock = new Object();
    private final Thread connector;
    private volatile boolean closed;
    private boolean held;

    /** Another site: its URI, and once reached, the hold on its registry and the shipper to it. */
    private static final class Target {
        final String name;
        final String uri;
        SharedRegistries.Hold hold;
        /** The site as its shipper sees it, once reached. */
        SiteReplication.Site site;
        /** Its shipper: null until reached, and while shipping is held. */
        SiteReplication.Link link;
        boolean faultRaised;

        Target(String name, String uri) {
            this.name = name;
            this.uri = uri;
        }
    }

    /**
     * @param local      this site, as its factory opened it
     * @param background where the other sites' dictionaries are loaded
     * @param conflicts  told of each cross-site conflict settled at another site by this site's shipper
     */
    SiteLinks(ClusterPersistenceConfiguration config, SiteReplication.Site local, Executor background,
              Consumer<StoreEvent.ConflictResolved> conflicts) {
        this.config = config;
        this.local = local;
        this.background = background;
        this.conflicts = conflicts;
        Duration pause = config.retryDelay().compareTo(MIN_RETRY_PAUSE) < 0 ? MIN_RETRY_PAUSE : config.retryDelay();
        Duration behind = config.siteReplicationDelay().multipliedBy(2).compareTo(BEHIND_AFTER) > 0
                ? config.siteReplicationDelay().multipliedBy(2) : BEHIND_AFTER;
        this.pace = new SiteReplication.Pace(config.siteReplicationDelay(), pause, behind, System::currentTimeMillis, config.maxClockSkew());
        this.shippingKey = local.registry().uri() + " " + local.layout().root();
        if (!SHIPPING.add(shippingKey)) {
            throw new ConfigurationException("a factory at site " + local.name() + " of the store under " + local.layout().root() + " in "
                    + local.registry().uri() + " is open in this process already; share that factory (one per site and store ships"
                    + " its writes)");
        }
        config.sites().forEach((name, uri) -> {
            if (!name.equals(local.name())) {
                targets.put(name, new Target(name, uri));
            }
        });
        this.connector = new Thread(this::connectAll, "reliablestore-site-links-" + local.name());
        connector.setDaemon(true);
        connector.start();
    }

    /** Reaches every other site, trying again after a pause while some cannot be reached. */
    private void connectAll() {
        while (!closed) {
            boolean waiting = false;
            for (Target t : targets.values()) {
                if (closed) {
                    return;
                }
                if (t.hold == null && !connect(t)) {
                    waiting = true;
                }
            }
            if (!waiting) {
                return;
            }
            synchronized (lock) {
                if (closed) {
                    return;
                }
                try {
                    lock.wait(Math.max(1, pace.retryPause().toMillis()));
                } catch (InterruptedException e) {
                    return; // closing
                }
            }
        }
    }

    private boolean connect(Target t) {
        SharedRegistries.Hold hold = null;
        try {
            hold = SharedRegistries.hold(t.uri, config.siteRegistryOptions(t.name, ClusterRegistries.optionNames(t.uri)));
            ClusterRegistry registry = hold.registry();
            RegistryGateway gateway = new RegistryGateway(registry, new Retrier(config.maxRetries(), config.retryDelay(),
                    config.failoverTimeout(), registry.uri()), config.replicationMode(), 1, RegistryGateway.serving(registry.status()));
            StorageLayout layout = local.layout();
            byte[] salt = ClusterStoreFactory.initialiseLayout(gateway, layout, registry.uri());
            KeyRing keys = config.keySource().map(source -> source.load(salt::clone)).orElse(null);
            // values are sealed for the other site without a dictionary: that site trains its own
            EnvelopeCodec codec = new EnvelopeCodec(layout.root().toString(), config.enableCompression(),
                    new DictionaryManager(gateway, layout, false, background), keys, t.name);
            SiteReplication.Site target = new SiteReplication.Site(t.name, registry, layout, local.locks(), codec);
            synchronized (lock) {
                if (closed) {
                    hold.close();
                    return true;
                }
                t.hold = hold;
                t.site = target;
                if (!held) {
                    t.link = SiteReplication.ship(local, target, pace, conflicts);
                }
            }
            if (t.faultRaised) {
                clearFault(t);
            }
            LOG.info("site {}: shipping to site {} ({})", local.name(), t.name, t.uri);
            return true;
        } catch (RuntimeException e) {
            if (hold != null) {
                hold.close();
            }
            if (e instanceof ConfigurationException || e instanceof IllegalArgumentException) {
                LOG.error("site {}: cannot ship to site {} ({}): {}", local.name(), t.name, t.uri, e.getMessage());
            } else {
                LOG.warn("site {}: site {} ({}) cannot be reached yet: {}", local.name(), t.name, t.uri, e.getMessage());
            }
            raiseFault(t, e);
            return false;
        }
    }

    private static String faultId(Target t) {
        return "site-unreachable-" + t.name;
    }

    private void raiseFault(Target t, RuntimeException why) {
        try {
            local.registry().removeHealthFault(faultId(t));
            local.registry().addHealthFault(new HealthFault(faultId(t), 1, 0, "site " + t.name + " (" + t.uri + ") cannot be reached"
                    + " from site " + local.name() + ": " + why.getMessage() + "; its writes wait in the local history", "ReliableStore geo", 0));
            t.faultRaised = true;
        } catch (RegistryException e) {
            LOG.warn("site {}: could not raise the health fault {}: {}", local.name(), faultId(t), e.getMessage());
        }
    }

    private void clearFault(Target t) {
        try {
            local.registry().removeHealthFault(faultId(t));
            t.faultRaised = false;
        } catch (RegistryException e) {
            LOG.warn("site {}: could not clear the health fault {}: {}", local.name(), faultId(t), e.getMessage());
        }
    }

    /** The running shippers, by target site (those not reached yet are absent). */
    Map<String, SiteReplication.Link> links() {
        Map<String, SiteReplication.Link> out = new LinkedHashMap<>();
        synchronized (lock) {
            targets.values().stream().filter(t -> t.link != null).forEach(t -> out.put(t.name, t.link));
        }
        return out;
    }

    /**
     * Stops shipping until {@link #release()}: the shippers close (what they had not shipped stays in
     * the local history and their targets' checkpoints say where to resume). Lets a test make
     * writes at several sites meet, as a cut link would.
     */
    void hold() {
        synchronized (lock) {
            held = true;
            for (Target t : targets.values()) {
                if (t.link != null) {
                    t.link.close();
                    t.link = null;
                }
            }
        }
    }

    /** Ships again after {@link #hold()}, from each target's checkpoint. */
    void release() {
        synchronized (lock) {
            held = false;
            if (closed) {
                return;
            }
            for (Target t : targets.values()) {
                if (t.site != null && t.link == null) {
                    t.link = SiteReplication.ship(local, t.site, pace, conflicts);
                }
            }
        }
    }

    /** Why the shipper to {@code site} stopped, if it did. */
    Optional<Throwable> failure(String site) {
        SiteReplication.Link link = links().get(site);
        return link == null ? Optional.empty() : link.failure();
    }

    @Override
    public void close() {
        List<Target> reached = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
            targets.values().stream().filter(t -> t.hold != null).forEach(reached::add);
        }
        connector.interrupt();
        try {
            connector.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Target t : reached) {
            if (t.link != null) {
                t.link.close();
            }
            t.hold.close();
        }
        for (Target t : targets.values()) {
            if (t.faultRaised) {
                clearFault(t);
            }
        }
        SHIPPING.remove(shippingKey);
    }
}
