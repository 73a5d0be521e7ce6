package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.geo.SiteMerger;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * The shippers of a factory at a site (docs/geo-replication.md): one per other site, each started
 * once that site's registry opens — at once if it is reachable, else retried in the background
 * with the health fault {@code site-unreachable-<site>} raised on the local registry meanwhile, so
 * a site that is down when the factory opens never keeps it from opening.
 *
 * <p>Of the factories of one site and store — in one process or many — one ships: the holder of
 * the site's shipper lease, a value in the site's own registry that its holder renews every
 * {@link #RENEW} and that lapses {@link #LEASE} after its last renewal (at once when its holder
 * closes). The lease keeps the work from being done twice; it is not what makes shipping correct:
 * two holders at once (a holder that stalled past its lease, clocks of one site that disagree) ship
 * every batch once all the same, because the targets' ledgers apply each batch once.
 */
final class SiteLinks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SiteLinks.class);
    /** A target that refuses (or a lag above it) this long raises {@code site-behind-<site>}, unless the gathering delay is longer. */
    static final Duration BEHIND_AFTER = Duration.ofSeconds(30);
    /** The pause between attempts to reach a site or to ship to it, at least. */
    static final Duration MIN_RETRY_PAUSE = Duration.ofMillis(50);
    /** How often the holder renews the lease, and how often the others look whether it lapsed. */
    static final Duration RENEW = Duration.ofSeconds(1);
    /** How long a lease lasts after its last renewal: a holder that died is replaced after this at most. */
    static final Duration LEASE = Duration.ofSeconds(10);
    static final String LEASE_VALUE = SiteReplication.LEASE_VALUE;
    /** Tombstones are looked over every tenth of the window, within these bounds. */
    static final Duration MIN_COLLECT_EVERY = Duration.ofSeconds(10);
    static final Duration MAX_COLLECT_EVERY = Duration.ofHours(1);
    /** The longest pause before a stopped shipper is started again. */
    static final Duration MAX_RESTART_PAUSE = Duration.ofMinutes(1);

    private final ClusterPersistenceConfiguration config;
    private final SiteReplication.Site local;
    private final SiteReplication.Pace pace;
    private final Executor background;
    private final Consumer<StoreEvent.ConflictResolved> conflicts;
    /** This factory's name in the lease: its node and a random part, so two factories of one node differ. */
    private final String owner;
    private final RegistryPath leaseKey;
    private final Duration collectEvery;
    /** One pass of tombstone collection per call; kept, so an unreadable tombstone is logged once, not at every pass. */
    private final IntSupplier tombstones;
    /** When the lease holder next removes the tombstones the window has passed over (System.nanoTime). */
    private long nextCollect = System.nanoTime();
    /** Where tombstones are collected: a scan of many takes its time, and must not hold up the lease or the shippers. */
    private final ExecutorService collector;
    private final AtomicBoolean collecting = new AtomicBoolean();
    private final SiteMerger merger;
    /** Whether a look for the merges this site owes is under way. */
    private final AtomicBoolean merging = new AtomicBoolean();
    /** Whether the range hashes a resync asked for are being computed (on the collector thread). */
    private final AtomicBoolean hashing = new AtomicBoolean();
    /** Whether a resync asked for range hashes since the last look. */
    private final AtomicBoolean hashAgain = new AtomicBoolean();
    /** Wakes the lease holder when a resync asks for range hashes, so that it waits for none of the loop's second. */
    private final dev.reliablestore.registry.Watch hashRequests;
    private final dev.reliablestore.registry.Watch leaseReleases;
    /**
     * Wakes the lease loop before its pause is over (a site reached, the lease let go, closing).
     * A permit, not {@code lock.notifyAll()}: a feed listener must never wait for {@link #lock}
     * (which is held while shippers stop), and a wake given while the loop works is not lost.
     */
    private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
    /**
     * Where the other sites are reached and their checkpoints read: a site that is down can hold a
     * call up to its connection or failover timeout, which must not hold up the lease's renewal.
     */
    private final ExecutorService remote;
    private final AtomicBoolean remoteBusy = new AtomicBoolean();
    /** What the last look at the stopped shippers' targets found: their checkpoints for this site. */
    private volatile Map<Target, Long> stoppedCheckpoints = Map.of();
    private final Map<String, Target> targets = new LinkedHashMap<>();
    private final Object lock = new Object();
    private final Thread runner;
    private volatile boolean closed;
    /** Under {@link #lock}: shipping held by {@link #hold()}. */
    private boolean held;
    /** Whether this factory holds the lease; {@link #leaseUntil} is when it lapses as far as this factory knows (wall-clock ms). */
    private volatile boolean leader;
    private long leaseUntil;
    /** The revision of the lease this factory wrote last (0: none), so that closing lets go of it only if it is still this one. */
    private long leaseRevision;

    /** Another site: its URI, and once reached, the hold on its registry and the shipper to it. */
    private static final class Target {
        final String name;
        final String uri;
        /** {@link #uri} for logs and health faults: a literal digest or TLS password in its query is never shown. */
        final String shown;
        SharedRegistries.Hold hold;
        /** The site as its shipper sees it, once reached. */
        SiteReplication.Site site;
        /**
         * Its shipper: null until reached, while another factory holds the lease, and while shipping is
         * held. Written under {@link #lock}; volatile so that {@link #shippingNow} reads it without the
         * lock, which is held while a shipper's close waits for its thread.
         */
        volatile SiteReplication.Link link;
        /** When a stopped shipper is started again (System.nanoTime), and the pause before the next time. */
        long restartAt;
        long restartPause;
        boolean faultRaised;
        /** Batches applied at this site by the links closed so far (a link counts its own); written under {@link #lock}. */
        volatile long shippedByClosedLinks;

        Target(String name, String uri) {
            this.name = name;
            this.uri = uri;
            this.shown = ClusterRegistries.redact(uri);
        }
    }

    /**
     * @param local      this site, as its factory opened it
     * @param nodeName   the factory's node, named in the lease
     * @param background where the other sites' dictionaries are loaded
     * @param merger     merges for {@code crossSiteConflicts = Merge} (the factory's resolvers); null for the other policies
     * @param conflicts  told of each cross-site conflict settled at another site by this site's shipper, and of each merge
     *                   this site owed and made
     */
    SiteLinks(ClusterPersistenceConfiguration config, SiteReplication.Site local, String nodeName, Executor background,
              SiteMerger merger, Consumer<StoreEvent.ConflictResolved> conflicts) {
        this.config = config;
        this.merger = merger;
        this.local = local;
        this.background = background;
        this.conflicts = conflicts;
        Duration pause = config.retryDelay().compareTo(MIN_RETRY_PAUSE) < 0 ? MIN_RETRY_PAUSE : config.retryDelay();
        Duration behind = config.siteReplicationDelay().multipliedBy(2).compareTo(BEHIND_AFTER) > 0
                ? config.siteReplicationDelay().multipliedBy(2) : BEHIND_AFTER;
        this.pace = new SiteReplication.Pace(config.siteReplicationDelay(), pause, behind, System::currentTimeMillis, config.maxClockSkew(),
                config.conflictResolutionWindow(), config.crossSiteConflicts());
        Duration every = config.conflictResolutionWindow().dividedBy(10);
        this.collectEvery = every.compareTo(MIN_COLLECT_EVERY) < 0 ? MIN_COLLECT_EVERY : every.compareTo(MAX_COLLECT_EVERY) > 0
                ? MAX_COLLECT_EVERY : every;
        this.tombstones = SiteReplication.tombstoneCollector(local, pace);
        this.owner = nodeName + "/" + UUID.randomUUID();
        this.leaseKey = SiteReplication.leaseKey(local.layout());
        config.sites().forEach((name, uri) -> {
            if (!name.equals(local.name())) {
                targets.put(name, new Target(name, uri));
            }
        });
        this.collector = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-site-tombstones-" + local.name());
            t.setDaemon(true);
            return t;
        });
        this.remote = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-site-remote-" + local.name());
            t.setDaemon(true);
            return t;
        });
        dev.reliablestore.registry.Watch requests = null;
        try {
            requests = local.registry().watch(SiteReplication.hashRequestsKey(local.layout()), new dev.reliablestore.registry.ChangeListener() {
                @Override
                public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                    hashesAsked();
                }

                @Override
                public void onResync(String reason) {
                    hashesAsked();
                }
            });
            // a holder that closes lets go of the lease: another factory of the site takes over at once
            // instead of at its next look (up to RENEW later); a holder that dies is found by the look
            this.leaseReleases = local.registry().watch(leaseKey, new dev.reliablestore.registry.ChangeListener() {
                @Override
                public void onBatch(dev.reliablestore.registry.ChangeBatch batch) {
                    if (batch.changes().stream().anyMatch(c -> c instanceof dev.reliablestore.registry.Change.ValueDeleted d
                            && d.name().equals(LEASE_VALUE) || c instanceof dev.reliablestore.registry.Change.KeyDeleted)) {
                        lookAtTheLease();
                    }
                }

                @Override
                public void onResync(String reason) {
                    lookAtTheLease();
                }
            });
        } catch (RuntimeException e) {
            // the factory's close cannot reach what is not built yet
            if (requests != null) {
                requests.close();
            }
            collector.shutdownNow();
            remote.shutdownNow();
            throw e;
        }
        this.hashRequests = requests;
        this.runner = new Thread(this::run, "reliablestore-site-links-" + local.name());
        runner.setDaemon(true);
        runner.start();
    }

    /**
     * The lease may be free: look now. Not only when this factory is not the holder: {@link #leader}
     * is refreshed once per turn, and a turn more for the holder is one renewal.
     */
    private void lookAtTheLease() {
        wake.release();
    }

    /** A resync may have asked for range hashes: while this factory holds the lease, look. */
    private void hashesAsked() {
        if (leader) {
            lookForHashRequests();
        }
    }

    /**
     * Looks for range-hash requests and answers them, on the collector thread (the feed's thread,
     * which tells of a request, must not wait). For the lease holder: on a request, and every second.
     */
    private void lookForHashRequests() {
        if (closed) {
            return;
        }
        hashAgain.set(true);
        if (hashing.compareAndSet(false, true)) {
            try {
                collector.execute(() -> {
                    try {
                        while (hashAgain.getAndSet(false) && !closed) {
                            answerHashRequests();
                        }
                    } finally {
                        hashing.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                hashing.set(false);
            }
        }
    }

    /**
     * Takes or renews the lease; while this factory holds it, reaches every other site (trying again
     * after a pause while some cannot be reached) and ships to each; while another holds it, ships
     * nothing.
     */
    private void run() {
        while (!closed) {
            boolean leading = lease();
            boolean waiting = false;
            // while a target runs with other settings (its window may be longer) no tombstone goes: shipping to it
            // waits too, and what it collected by a window another site does not share could never be taken back
            // (a target reached, whose link has not looked yet — the turn the lease is taken — counts as not agreeing)
            boolean settingsAgree;
            synchronized (lock) { // where hold is set
                settingsAgree = targets.values().stream().allMatch(t -> t.hold == null || t.link != null && t.link.settingsAgree());
            }
            if (leading && settingsAgree && System.nanoTime() - nextCollect >= 0 && collecting.compareAndSet(false, true)) {
                nextCollect = System.nanoTime() + collectEvery.toNanos();
                collector.execute(() -> {
                    try {
                        collectTombstones();
                    } finally {
                        collecting.set(false);
                    }
                });
            }
            if (leading && merger != null && merging.compareAndSet(false, true)) {
                try {
                    collector.execute(() -> {
                        try {
                            makePendingMerges();
                        } finally {
                            merging.set(false);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    return;
                }
            }
            if (leading) {
                lookForHashRequests();
            }
            if (leading && remoteBusy.compareAndSet(false, true)) {
                try {
                    remote.execute(() -> {
                        try {
                            for (Target t : targets.values()) {
                                if (!closed && t.hold == null) {
                                    connect(t);
                                }
                            }
                            stoppedCheckpoints = checkpointsOfStopped();
                        } finally {
                            remoteBusy.set(false);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    return;
                }
            }
            Map<Target, Long> moved = stoppedCheckpoints;
            stoppedCheckpoints = Map.of();
            synchronized (lock) {
                waiting = targets.values().stream().anyMatch(t -> t.hold == null);
                if (closed) {
                    return;
                }
                leader = leading;
                if (leading) {
                    restartStopped(moved);
                    startLinks();
                } else {
                    stopLinks();
                }
            }
            long pause = waiting ? Math.min(pace.retryPause().toMillis(), RENEW.toMillis()) : RENEW.toMillis();
            try {
                wake.tryAcquire(Math.max(1, pause), TimeUnit.MILLISECONDS);
                wake.drainPermits(); // the wakes given meanwhile are all answered by this turn
            } catch (InterruptedException e) {
                return; // closing
            }
        }
    }

    /**
     * Takes the lease when nobody holds it (or its holder let it lapse), renews it when this factory
     * holds it. Returns whether this factory holds it now. When the site's registry cannot be asked,
     * this factory keeps what it had until its lease would have lapsed.
     */
    private boolean lease() {
        ClusterRegistry registry = local.registry();
        long now = System.currentTimeMillis();
        try {
            Optional<VersionedValue> current = registry.getValue(leaseKey, LEASE_VALUE);
            WriteBatch.Builder b = WriteBatch.builder();
            boolean renewing = false;
            if (current.isPresent()) {
                String[] lease = current.get().value().asSz().split(" ", 2);
                long until = Long.parseLong(lease[0]);
                boolean mine = lease.length == 2 && lease[1].equals(owner);
                renewing = mine && leader;
                if (!mine && now < until) {
                    return false; // another factory of this site ships
                }
                if (!mine) {
                    LOG.info("site {}: the shipper lease of {} lapsed at {}; {} takes it", local.name(), lease.length == 2 ? lease[1] : "?",
                            until, owner);
                }
                b.requireRevision(leaseKey, LEASE_VALUE, current.get().revision());
            } else {
                b.requireValueAbsent(leaseKey, LEASE_VALUE);
            }
            if (!renewing) {
                // taking it: the site's work runs with this factory's settings now, for the other sites' shippers to compare
                b.add(SiteReplication.recordSettings(local.layout(), pace, owner));
            }
            long until = now + LEASE.toMillis();
            leaseRevision = registry.commit(b.setValue(leaseKey, LEASE_VALUE, RegistryValue.sz(until + " " + owner)).build()).sequence();
            leaseUntil = until;
            return true;
        } catch (ConditionFailedException raced) {
            return false; // another factory took or renewed it meanwhile
        } catch (RegistryException | IllegalArgumentException e) {
            LOG.warn("site {}: the shipper lease cannot be read or renewed: {}", local.name(), e.getMessage());
            return leader && now < leaseUntil;
        }
    }

    /** The conflict records of {@code type} opened from {@code stored}, the values this site keeps of them; oldest settled first. */
    List<ConflictRecord> conflictRecords(String type, Map<String, VersionedValue> stored) {
        return SiteReplication.conflictRecords(local, type, stored);
    }

    /** Makes the merges this site owes that no shipment could make right away (a crash, a type that process could not merge). */
    private void makePendingMerges() {
        try {
            int made = SiteReplication.makePendingMerges(local, pace, merger, conflicts);
            if (made > 0) {
                LOG.info("site {}: made {} merge(s) it owed", local.name(), made);
            }
        } catch (RuntimeException e) {
            LOG.warn("site {}: the merges it owes are not made this time: {}", local.name(), e.toString());
        }
    }

    /** Computes the range hashes a resync asked this site for (docs/geo-replication.md, Operations). */
    private void answerHashRequests() {
        try {
            int answered = SiteReplication.answerHashRequests(local);
            if (answered > 0) {
                LOG.info("site {}: computed range hashes for {} resync request(s)", local.name(), answered);
            }
        } catch (RuntimeException e) {
            LOG.warn("site {}: range hashes not computed this time: {}", local.name(), e.toString());
        }
    }

    /** Removes this site's tombstones and conflict records that the conflict-resolution window has passed over. */
    private void collectTombstones() {
        try {
            int removed = tombstones.getAsInt();
            if (removed > 0) {
                LOG.info("site {}: removed {} tombstone(s) older than the conflict-resolution window ({})", local.name(), removed,
                        pace.conflictWindow());
            }
        } catch (RuntimeException e) {
            LOG.warn("site {}: tombstones not collected this time: {}", local.name(), e.toString());
        }
        try {
            int removed = SiteReplication.collectConflictRecords(local, pace);
            if (removed > 0) {
                LOG.info("site {}: removed {} conflict record(s) settled longer ago than the conflict-resolution window ({})", local.name(),
                        removed, pace.conflictWindow());
            }
        } catch (RuntimeException e) {
            LOG.warn("site {}: conflict records not collected this time: {}", local.name(), e.toString());
        }
    }

    /** Lets go of the lease, so another factory of the site ships at once (only if this one still holds it). */
    private void releaseLease() {
        if (leaseRevision == 0) {
            return;
        }
        try {
            local.registry().commit(WriteBatch.builder().requireRevision(leaseKey, LEASE_VALUE, leaseRevision)
                    .deleteValue(leaseKey, LEASE_VALUE).build());
        } catch (ConditionFailedException taken) {
            // another factory holds it already
        } catch (RegistryException e) {
            LOG.warn("site {}: could not let go of the shipper lease (it lapses by itself within {}): {}", local.name(), LEASE,
                    e.getMessage());
        }
    }

    /** Under {@link #lock}: starts a shipper to every site reached that has none, unless shipping is held. */
    private void startLinks() {
        if (held || closed) {
            return;
        }
        for (Target t : targets.values()) {
            if (t.site != null && t.link == null) {
                t.link = SiteReplication.ship(local, t.site, pace, conflicts);
                LOG.info("site {}: shipping to site {} ({})", local.name(), t.name, t.shown);
            }
        }
    }

    /**
     * Under {@link #lock}: a shipper that stopped (its target needs a resync, a value failed to open)
     * is started again after a pause, doubling from {@link #RENEW} to {@link #MAX_RESTART_PAUSE}: once
     * the target was resynced, or the value repaired, it ships on from the target's checkpoint.
     */
    private void restartStopped(Map<Target, Long> checkpoints) {
        long now = System.nanoTime();
        for (Target t : targets.values()) {
            if (t.link == null || t.link.failure().isEmpty()) {
                continue;
            }
            Long checkpoint = checkpoints.get(t);
            if (checkpoint != null && checkpoint != t.link.checkpoint()) {
                // the target's checkpoint moved since the shipper stopped (a resync): ship on at once
                t.restartAt = now;
                t.restartPause = 0;
            }
            if (t.restartAt == 0) {
                t.restartPause = t.restartPause == 0 ? RENEW.toNanos() : Math.min(t.restartPause * 2, MAX_RESTART_PAUSE.toNanos());
                t.restartAt = now + t.restartPause;
            } else if (now - t.restartAt >= 0) {
                LOG.info("site {}: starting the shipper to site {} again after it stopped ({})", local.name(), t.name,
                        t.link.failure().get().toString());
                closeLink(t);
                t.link = SiteReplication.ship(local, t.site, pace, conflicts);
                t.restartAt = 0;
            }
        }
    }

    /** The checkpoint each target whose shipper stopped keeps for this site now (read outside the lock: a target may be slow). */
    private Map<Target, Long> checkpointsOfStopped() {
        List<Target> stopped = new ArrayList<>();
        synchronized (lock) {
            targets.values().stream().filter(t -> t.link != null && t.link.failure().isPresent()).forEach(stopped::add);
        }
        Map<Target, Long> out = new java.util.HashMap<>();
        for (Target t : stopped) {
            try {
                out.put(t, t.site.registry().getValue(SiteReplication.ledgerKey(t.site.layout()), local.name())
                        .map(v -> v.value().asQword()).orElse(0L));
            } catch (RegistryException e) {
                LOG.debug("site {}: cannot read site {}'s checkpoint: {}", local.name(), t.name, e.getMessage());
            }
        }
        return out;
    }

    /** Under {@link #lock}: stops every shipper (what it had not shipped stays in the history; the checkpoints say where to resume). */
    private void stopLinks() {
        for (Target t : targets.values()) {
            if (t.link != null) {
                closeLink(t);
            }
        }
    }

    /** Under {@link #lock}: closes the target's shipper, keeping its count of shipped batches. */
    private static void closeLink(Target t) {
        t.link.close();
        t.shippedByClosedLinks += t.link.shipped();
        t.link = null;
    }

    /** Opens another site's registry and the store's layout there; false (with its health fault raised) if it cannot yet. */
    private boolean connect(Target t) {
        SharedRegistries.Hold hold = null;
        try {
            hold = SharedRegistries.hold(t.uri, config.siteRegistryOptions(t.name, ClusterRegistries.optionNames(t.uri)));
            SiteReplication.Site target = site(config, t.name, hold.registry(), background);
            synchronized (lock) {
                if (closed) {
                    hold.close();
                    return true;
                }
                t.hold = hold;
                t.site = target;
            }
            wake.release(); // ship to it now, not after the loop's pause (up to a second)
            if (t.faultRaised) {
                clearFault(t);
            } else {
                clearFaultLeftByAnother(t);
            }
            return true;
        } catch (RuntimeException e) {
            if (hold != null) {
                hold.close();
            }
            if (e instanceof ConfigurationException || e instanceof IllegalArgumentException) {
                LOG.error("site {}: cannot ship to site {} ({}): {}", local.name(), t.name, t.shown, e.getMessage());
            } else {
                LOG.warn("site {}: site {} ({}) cannot be reached yet: {}", local.name(), t.name, t.shown, e.getMessage());
            }
            raiseFault(t, e);
            return false;
        }
    }

    /**
     * Another site of the store as a shipper (or a resync) sees it: the store's layout created
     * there if the root is empty, that site's keys (the configured key source with that registry's
     * salt) and its envelopes. Values are sealed for it without a dictionary: the site trains its own.
     * Its dictionaries are only read, never resealed under this process's active key: the site's own
     * nodes may not hold that key yet (a rotation's first round), and would lose every value compressed
     * with them; only a site's own factories reseal its dictionaries.
     */
    static SiteReplication.Site site(ClusterPersistenceConfiguration config, String name, ClusterRegistry registry, Executor background) {
        RegistryGateway gateway = new RegistryGateway(registry, new Retrier(config.maxRetries(), config.retryDelay(),
                config.failoverTimeout(), registry.uri()), config.replicationMode(), 1, RegistryGateway.serving(registry.status()));
        StorageLayout layout = new StorageLayout(config.root());
        return new SiteReplication.Site(name, registry, layout, layout.root().child(RegistryTransactions.TRANSACTIONS)
                .child(RegistryTransactions.LOCKS), envelopes(config, name, gateway, layout, registry.uri(), background, false));
    }

    /**
     * The envelopes of another site: the store's layout created there if the root is empty, that
     * site's keys (the configured key source with that registry's salt), no dictionary of this site;
     * {@code reseal} whether its dictionaries may be resealed under the active key (never, today: see {@link #site}).
     */
    static EnvelopeCodec envelopes(ClusterPersistenceConfiguration config, String name, RegistryGateway gateway, StorageLayout layout,
                                   String uri, Executor background, boolean reseal) {
        byte[] salt = ClusterStoreFactory.initialiseLayout(gateway, layout, uri);
        KeyRing keys = config.keySource().map(source -> source.load(salt::clone)).orElse(null);
        DictionaryManager dictionaries = new DictionaryManager(gateway, layout, false, background);
        if (!reseal) {
            dictionaries.neverReseal();
        }
        return new EnvelopeCodec(layout.root().toString(), config.enableCompression(), dictionaries, keys, name);
    }

    private static String faultId(Target t) {
        return "site-unreachable-" + t.name;
    }

    private void raiseFault(Target t, RuntimeException why) {
        try {
            local.registry().removeHealthFault(faultId(t));
            local.registry().addHealthFault(new HealthFault(faultId(t), 1, 0, "site " + t.name + " (" + t.shown + ") cannot be reached"
                    + " from site " + local.name() + ": " + why.getMessage() + "; its writes wait in the local history", "ReliableStore geo", 0));
            t.faultRaised = true;
        } catch (RegistryException e) {
            LOG.warn("site {}: could not raise the health fault {}: {}", local.name(), faultId(t), e.getMessage());
        }
    }

    /**
     * Clears the target's unreachable fault if another factory of this site raised it (and did not clear it: killed,
     * or the lease moved): this one has just reached the target.
     */
    private void clearFaultLeftByAnother(Target t) {
        try {
            if (local.registry().healthFaults().stream().anyMatch(f -> f.id().equals(faultId(t)))) {
                clearFault(t);
            }
        } catch (RegistryException e) {
            LOG.debug("site {}: could not read the health faults to clear {}: {}", local.name(), faultId(t), e.getMessage());
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

    /** Whether this factory holds its site's shipper lease (and so ships). */
    boolean shipping() {
        return leader;
    }

    /** What this factory's shipping to each other site is doing, from memory. */
    List<SiteShipping> shippingNow() {
        // without the lock: a metric scrape must not wait while a shipper closes (a link that closes
        // at that moment may be counted twice, in that one answer)
        List<SiteShipping> out = new ArrayList<>();
        for (Target t : targets.values()) {
            SiteReplication.Link link = t.link;
            boolean running = leader && link != null && link.failure().isEmpty();
            long shipped = t.shippedByClosedLinks + (link == null ? 0 : link.shipped());
            out.add(new SiteShipping(local.name(), t.name, running, running ? Optional.of(link.lag()) : Optional.empty(), shipped));
        }
        return out;
    }

    /** The running shippers, by target site (those not reached yet, or while this factory does not ship, are absent). */
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
            stopLinks();
        }
    }

    /** Ships again after {@link #hold()}, from each target's checkpoint (if this factory holds the lease). */
    void release() {
        synchronized (lock) {
            held = false;
            if (leader) {
                startLinks();
            }
        }
    }

    @Override
    public void close() {
        List<Target> reached = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            wake.release();
            targets.values().stream().filter(t -> t.hold != null).forEach(reached::add);
        }
        hashRequests.close();
        leaseReleases.close();
        runner.interrupt();
        collector.shutdownNow();
        remote.shutdownNow();
        try {
            runner.join(Duration.ofSeconds(30).toMillis());
            collector.awaitTermination(30, TimeUnit.SECONDS);
            remote.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            stopLinks();
        }
        for (Target t : reached) {
            t.hold.close();
        }
        for (Target t : targets.values()) {
            if (t.faultRaised) {
                clearFault(t);
            }
        }
        // also when the loop took the lease but was closed before it noted that it leads: the
        // condition on the revision deletes only this factory's own latest lease
        releaseLease();
    }
}
