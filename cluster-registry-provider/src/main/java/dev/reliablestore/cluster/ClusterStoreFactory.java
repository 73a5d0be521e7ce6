package dev.reliablestore.cluster;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.audit.AuditLog;
import dev.reliablestore.cluster.backup.ScheduledBackups;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.cluster.geo.LocalWrites;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.HealthReport;
import dev.reliablestore.registry.MembershipEvent;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * One registry connection shared by the stores of every entity type: layout check, keys,
 * dictionaries, health checks, membership events.
 */
final class ClusterStoreFactory implements StoreFactory, TransactionalResource {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterStoreFactory.class);
    static final String PROVIDER = "cluster-registry";
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Attempts to read or create the layout; with the pauses between them, about 2.5 s in all. */
    private static final int LAYOUT_ATTEMPTS = 30;

    private final ClusterPersistenceConfiguration config;
    private final ClusterRegistry registry;
    /** Lets go of the registry when the factory closes: closes it, releases a shared hold, or nothing (the caller owns it). */
    private final Runnable releaseRegistry;
    private final StorageLayout layout;
    private final RegistryGateway gateway;
    private final EventHub events;
    private final ScheduledExecutorService maintenance;
    /** Runs the stores' async twins: the configured executor, else {@link #ownAsyncPool}. */
    private final Executor asyncExecutor;
    /** The pool this factory created for the async twins and shuts down; null when the caller supplied one. */
    private final ExecutorService ownAsyncPool;
    /** The threads of {@link #ownAsyncPool}: close() called on one of them does not wait for itself. */
    private final Set<Thread> poolThreads = ConcurrentHashMap.newKeySet();
    /** How long close() waits for the async calls and answers still running on {@link #ownAsyncPool}. */
    private static final Duration ANSWERS_ON_CLOSE = Duration.ofSeconds(10);
    private final DictionaryManager dictionaries;
    private final EnvelopeCodec envelopeCodec;
    private final String nodeName;
    private final String healthFaultId;
    private final int maxValueBytes;
    private final Subscription membership;
    private final Set<RegistryEntityStore<?>> stores = ConcurrentHashMap.newKeySet();
    /** The local cache of each entity type, shared by the type's stores (when enableLocalCache is on). */
    private final TypeCaches caches;
    private final RegistryTransactions transactions;
    /** The audit log when enableAuditLogging is on, else null. */
    private final AuditLog audit;
    /** The backup schedule when backupEnabled is on, else null. */
    private final ScheduledBackups backups;
    /** The stamped writes of a store at a site, or null for a single-site store. */
    private final LocalWrites siteWrites;
    /** The shippers to the other sites, when the configuration names sites; else null. */
    private final SiteLinks siteLinks;
    /** Where the stores' preferred reads go when that is another site; null when the local site answers them. */
    private final PreferredSite preferred;
    private volatile boolean closed;
    private final boolean checkingOnly;
    private volatile String lastHealthFailure;
    /**
     * Whether this node's host health fault may be in the registry. True at open when the host gave
     * hooks: a fault an earlier process of this node raised and never removed (it crashed, or was
     * redeployed) is durable, and the first passing check must take it away.
     */
    private volatile boolean healthFaultRaised;
    /**
     * Whether the host gave hooks, whose health check the node's fault reports. A factory without
     * (a tool run on the node) shares the fault's id but not its host's check: it leaves the fault alone.
     */
    private final boolean hostHooks;

    /**
     * Opens the configured registry and owns it. At a site of a multi-site store the registry is
     * held in common with the other factories of this process that ship to that site.
     */
    static ClusterStoreFactory open(ClusterPersistenceConfiguration config) {
        ClusterRegistry registry;
        Runnable release;
        Map<String, String> options = config.registryOptions(ClusterRegistries.optionNames(config.clusterName()));
        try {
            if (config.localSite().isPresent()) {
                SharedRegistries.Hold hold = SharedRegistries.hold(config.clusterName(), options);
                registry = hold.registry();
                release = hold::close;
            } else {
                registry = ClusterRegistries.open(config.clusterName(), options);
                release = registry::close;
            }
        } catch (RegistryUnavailableException e) {
            throw new StoreUnavailableException("cannot reach registry " + ClusterRegistries.redact(config.clusterName()) + ": " + e.getMessage(), e);
        } catch (RegistryArgumentException e) {
            throw new ConfigurationException("option clusterName = " + ClusterRegistries.redact(config.clusterName()) + " (or a registry.* option,"
                    + " or failoverTimeout, minimumNodes or nodeAffinity, which are passed down to the backend) is invalid: " + e.getMessage(), e);
        } catch (RegistryException e) {
            throw new PersistenceException("cannot open registry " + ClusterRegistries.redact(config.clusterName()) + ": " + e.getMessage(), e);
        }
        Site site = config.localSite().map(name -> new Site(name, System::currentTimeMillis, config.maxClockSkew())).orElse(null);
        try {
            return new ClusterStoreFactory(config, registry, release, site, false);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /** Uses a registry opened by the caller, which keeps owning it (several factories may share one). */
    static ClusterStoreFactory onRegistry(ClusterPersistenceConfiguration config, ClusterRegistry registry) {
        return onRegistry(config, registry, false);
    }

    /** As {@link #onRegistry(ClusterPersistenceConfiguration, ClusterRegistry)}; {@code checkingOnly}: see {@link #checkingOnly()}. */
    static ClusterStoreFactory onRegistry(ClusterPersistenceConfiguration config, ClusterRegistry registry, boolean checkingOnly) {
        if (config.localSite().isPresent()) {
            // the sites' registries are opened by the factory (shared with the other sites' shippers): a
            // registry from the caller would leave the sites configured and nothing shipped
            throw new ConfigurationException("a configuration with sites (" + config.sites().keySet() + ") opens the sites' registries"
                    + " itself: open it with ClusterPersistenceProvider.open(configuration), not on a registry the caller holds");
        }
        return new ClusterStoreFactory(config, registry, () -> { }, null, checkingOnly);
    }

    /**
     * A site of a multi-site store (docs/geo-replication.md): {@link #onRegistry}, with every write
     * stamped for the other sites, on a clock the caller gives. Shippers start only when the
     * configuration names the sites; tests without sites run their own.
     */
    static ClusterStoreFactory onRegistryAtSite(ClusterPersistenceConfiguration config, ClusterRegistry registry, Site site) {
        return new ClusterStoreFactory(config, registry, () -> { }, Objects.requireNonNull(site, "site"), false);
    }

    /** This factory's site: its name, its wall clock and the skew it tolerates in other sites' stamps. */
    record Site(String name, LongSupplier wallMillis, Duration maxClockSkew) {
    }

    private ClusterStoreFactory(ClusterPersistenceConfiguration config, ClusterRegistry registry, Runnable releaseRegistry, Site site,
            boolean checkingOnly) {
        this.config = config;
        this.checkingOnly = checkingOnly;
        this.registry = registry;
        this.releaseRegistry = releaseRegistry;
        this.layout = new StorageLayout(config.root());
        this.maxValueBytes = config.maxValueSizeKB() * 1024;
        int registryLimit = registry.limits().maxValueSize();
        if (maxValueBytes > registryLimit) {
            throw new ConfigurationException("option maxValueSizeKB = " + config.maxValueSizeKB() + " is invalid: registry "
                    + registry.uri() + " accepts values of at most " + registryLimit + " bytes (" + registryLimit / 1024 + " KiB)");
        }
        ClusterStatus status = registry.status();
        List<String> members = status.nodes().stream().map(NodeInfo::name).toList();
        List<String> strangers = config.nodeAffinity().stream().filter(n -> !members.contains(n)).toList();
        if (!strangers.isEmpty()) {
            throw new ConfigurationException("option nodeAffinity names " + strangers + ", which are not members of cluster "
                    + registry.uri() + " (members: " + members + ")");
        }
        if (config.minimumNodes() > members.size() && registry.listsEveryNode()) {
            throw new ConfigurationException("option minimumNodes = " + config.minimumNodes() + " can never be met: cluster "
                    + registry.uri() + " has " + members.size() + " node(s) " + members);
        }
        this.gateway = new RegistryGateway(registry, new Retrier(config.maxRetries(), config.retryDelay(), config.failoverTimeout(),
                registry.uri()), config.replicationMode(), config.minimumNodes(), RegistryGateway.serving(status));
        this.caches = new TypeCaches(gateway, config);
        this.nodeName = config.hooks().nodeName().filter(n -> !n.isBlank()).orElse(status.localNode());
        this.healthFaultId = faultId(nodeName);
        this.hostHooks = runsHealthCheck(config.hooks());
        this.healthFaultRaised = hostHooks;
        byte[] salt = initialiseLayout(gateway, layout, registry.uri());
        KeyRing keys = config.keySource().map(source -> source.load(salt::clone)).orElse(null);
        if (keys != null && !checkingOnly) {
            // before anything is written with them; a checking tool reports each value it cannot read instead
            KeyChecks.enforce(gateway, layout, keys, registry.uri());
        }
        this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reliablestore-cluster-maintenance-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.ownAsyncPool = config.executor().isPresent() ? null : Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(() -> {
                try {
                    r.run();
                } finally {
                    poolThreads.remove(Thread.currentThread()); // an idle worker ends after 60 s
                }
            }, "reliablestore-cluster-async-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            poolThreads.add(t);
            return t;
        });
        this.asyncExecutor = config.executor().orElse(ownAsyncPool);
        this.dictionaries = new DictionaryManager(gateway, layout, config.compressionDictionary(), maintenance);
        this.envelopeCodec = new EnvelopeCodec(layout.root().toString(), config.enableCompression(), dictionaries, keys,
                site == null ? null : site.name());
        this.events = new EventHub(nodeName);
        this.membership = registry.addMembershipListener(this::onMembership);
        this.transactions = new RegistryTransactions(this);
        this.siteWrites = site == null ? null
                : new LocalWrites(layout, transactions.locks(), envelopeCodec, site.name(), site.wallMillis(), site.maxClockSkew());
        this.audit = config.enableAuditLogging() ? startedOrClosed(() -> AuditLog.open(config.auditLogPath().orElseThrow(), nodeName)) : null;
        this.backups = config.backupEnabled() ? startedOrClosed(() -> ScheduledBackups.start(registry, layout.root(), nodeName,
                config.backupPath().orElseThrow(), config.backupInterval(), config.backupRetention())) : null;
        long interval = config.healthCheckInterval().toNanos();
        // the first check at once (off this thread): until it runs, nobody has checked, and a health probe would read UP
        maintenance.scheduleWithFixedDelay(this::healthCheckThatGoesOn, 0, interval, TimeUnit.NANOSECONDS);
        // last: it starts the shippers, which use all of the above
        SiteLinks links = null;
        if (site != null && !config.sites().isEmpty()) {
            try {
                links = new SiteLinks(config, new SiteReplication.Site(site.name(), registry, layout, transactions.locks(), envelopeCodec),
                        nodeName, maintenance, config.crossSiteConflicts() == CrossSiteConflicts.MERGE ? this::mergeAcrossSites : null,
                        this::siteConflict);
            } catch (RuntimeException e) {
                close(); // stops what the constructor started; the caller lets go of the registry
                throw e;
            }
        }
        this.siteLinks = links;
        String preferredSite = config.preferredSite().orElse(null);
        this.preferred = preferredSite == null || preferredSite.equals(config.localSite().orElse(null)) ? null
                : new PreferredSite(config, preferredSite, layout, transactions, maintenance);
    }

    /**
     * What {@code start} returns; if it throws, the factory under construction is closed first (its
     * membership listener, event and maintenance threads are already running, and a registry the
     * caller holds would keep them).
     */
    private <T> T startedOrClosed(java.util.function.Supplier<T> start) {
        try {
            return start.get();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * {@code crossSiteConflicts = Merge}: the losing JSON merged into the stored JSON by the resolver
     * of the type's entity class — the class of an open store of that type name, else a class with a
     * resolver whose simple name it is (the default type name) — or null when neither exists here.
     */
    private byte[] mergeAcrossSites(String typeName, String id, byte[] stored, long storedVersion, byte[] lost) {
        Class<?> type = null;
        for (RegistryEntityStore<?> s : stores) {
            if (s.typeName().equals(typeName)) {
                type = s.entityType();
                break;
            }
        }
        if (type == null) {
            type = config.conflictResolverTypes().stream().filter(c -> c.getSimpleName().equals(typeName)).findFirst().orElse(null);
        }
        return type == null ? null : mergeAcrossSites(type, typeName, id, stored, storedVersion, lost);
    }

    private <T> byte[] mergeAcrossSites(Class<T> type, String typeName, String id, byte[] stored, long storedVersion, byte[] lost) {
        ConflictResolver<T> resolver = config.conflictResolver(type).orElse(null);
        if (resolver == null) {
            return null;
        }
        StoreCodec<T> json = new StoreCodec<>(codec(), type);
        String where = typeName + "/" + id;
        // the losing write was made at another site, whose versions are its own: the one expected is the stored one
        T merged = resolver.resolve(id, new Versioned<>(id, json.read(stored, where), storedVersion), json.read(lost, where), storedVersion);
        if (merged == null) {
            throw new IllegalStateException("the ConflictResolver of " + type.getName() + " returned null merging " + where + " across sites");
        }
        return json.write(merged);
    }

    /**
     * A conflict between sites that this site's shipper settled at another site: told to the
     * listeners of this factory's stores of the entity's type (a type no store here has open is
     * only logged).
     */
    private void siteConflict(StoreEvent.ConflictResolved event) {
        boolean told = false;
        for (RegistryEntityStore<?> s : stores) {
            if (s.typeName().equals(event.typeName())) {
                s.siteConflict(event);
                told = true;
            }
        }
        if (!told) {
            LOG.info("site {}: cross-site conflict of {}/{} settled at site {} (no store of the type is open here to tell)",
                    siteWrites.site(), event.typeName(), event.id(), event.acrossSites().map(StoreEvent.SiteConflict::site).orElse("?"));
        }
    }

    /** The site the stores' preferred reads go to, or null when the local site answers them. */
    PreferredSite preferredSite() {
        return preferred;
    }

    /** What this factory's shipping to each other site is doing now (empty without sites). */
    List<SiteShipping> siteShipping() {
        return siteLinks == null ? List.of() : siteLinks.shippingNow();
    }

    /** The shippers of this site, or null for a store that is not configured with sites. */
    SiteLinks siteLinks() {
        return siteLinks;
    }

    /**
     * Whether the hooks bring a health check of their own: only then is the node's health fault this
     * factory's to raise and clear. Hooks that only name the node or the audit's principal (a tool's,
     * another component's) would otherwise clear the fault the application's check raised.
     */
    private static boolean runsHealthCheck(ClusterHooks hooks) {
        try {
            return hooks.getClass().getMethod("unhealthyReason").getDeclaringClass() != ClusterHooks.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("ClusterHooks has no unhealthyReason()", e);
        }
    }

    private static String faultId(String node) {
        String id = ("reliablestore-" + node).replaceAll("[/\\\\\\p{Cntrl}]", "_");
        return id.length() > RegistryPath.MAX_SEGMENT_LENGTH ? id.substring(0, RegistryPath.MAX_SEGMENT_LENGTH) : id;
    }

    /**
     * Creates Configuration/Version, Schema and KeySalt on an empty root; refuses a newer layout.
     * Returns the salt. Also run on the registries of the other sites a factory ships to.
     *
     * @throws UnfinishedRestoreException the root holds {@link RestoreMarker}
     */
    static byte[] initialiseLayout(RegistryGateway gateway, StorageLayout layout, String registryUri) {
        RegistryPath cfg = layout.configuration();
        for (int attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
            if (attempt >= 2) {
                // a condition sees a write before reads do (it may still be on its way to disk), so
                // the other initialiser's write can take a moment to become readable
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(100, 1L << (attempt - 2))));
            }
            List<RegistryPath> enclosing = layout.enclosingConfigurations();
            List<ReadBatch.Read> reads = new ArrayList<>(List.of(
                    new ReadBatch.ValueRead(cfg, StorageLayout.VERSION_VALUE), new ReadBatch.ValueRead(cfg, StorageLayout.KEY_SALT_VALUE),
                    new ReadBatch.ValueRead(cfg, StorageLayout.RESTORE_IN_PROGRESS_VALUE)));
            enclosing.forEach(e -> reads.add(new ReadBatch.ValueRead(e, StorageLayout.RESTORE_IN_PROGRESS_VALUE)));
            ReadBatchResult r = gateway.read("layout check of " + layout.root(), ReadBatch.of(reads));
            Optional<VersionedValue> version = r.value(0);
            Optional<VersionedValue> salt = r.value(1);
            Optional<VersionedValue> unfinishedRestore = r.value(2);
            // a root a restore marked as unfinished is refused before anything is written, also another site's (a shipper,
            // a preferred reader): its deletes may have taken the layout and key salt, which would be created anew
            if (unfinishedRestore.isPresent()) {
                throw new UnfinishedRestoreException(layout.root() + " in " + registryUri, RestoreMarker.of(unfinishedRestore.get().value()));
            }
            for (int i = 0; i < enclosing.size(); i++) {
                // a restore into a root that encloses this one deletes and rewrites this store too
                Optional<VersionedValue> outer = r.value(3 + i);
                if (outer.isPresent()) {
                    throw new UnfinishedRestoreException(layout.root() + " in " + registryUri + " (inside " + enclosing.get(i).parent() + ")",
                            RestoreMarker.of(outer.get().value()));
                }
            }
            try {
                if (version.isEmpty()) {
                    byte[] fresh = new byte[16];
                    new SecureRandom().nextBytes(fresh);
                    WriteBatch.Builder b = WriteBatch.builder().requireValueAbsent(cfg, StorageLayout.VERSION_VALUE)
                            .setValue(cfg, StorageLayout.VERSION_VALUE, RegistryValue.dword(StorageLayout.VERSION))
                            .setValue(cfg, StorageLayout.SCHEMA_VALUE, RegistryValue.sz(StorageLayout.SCHEMA));
                    if (salt.isEmpty()) {
                        b.requireValueAbsent(cfg, StorageLayout.KEY_SALT_VALUE).setValue(cfg, StorageLayout.KEY_SALT_VALUE, RegistryValue.binary(fresh));
                    }
                    gateway.commit(RegistryGateway.Commit.durable("layout initialisation of " + layout.root(), b.build()).ungated());
                    continue; // read back what is stored now
                }
                RegistryValue v = version.get().value();
                if (v.type() != ValueType.DWORD) {
                    throw new DataIntegrityException(cfg + "/" + StorageLayout.VERSION_VALUE + " is a " + v.type() + " value, not a DWORD layout version");
                }
                int stored = v.asDword();
                if (stored > StorageLayout.VERSION) {
                    throw new ConfigurationException("the data under " + layout.root() + " in " + registryUri + " uses storage layout "
                            + stored + "; this ReliableStore reads layout " + StorageLayout.VERSION + " only; open it with a newer ReliableStore");
                }
                if (stored < 1) {
                    throw new DataIntegrityException(cfg + "/" + StorageLayout.VERSION_VALUE + " holds layout version " + stored
                            + ", which never existed");
                }
                if (salt.isEmpty()) {
                    byte[] fresh = new byte[16];
                    new SecureRandom().nextBytes(fresh);
                    gateway.commit(RegistryGateway.Commit.durable("key salt creation", WriteBatch.builder()
                            .requireValueAbsent(cfg, StorageLayout.KEY_SALT_VALUE)
                            .setValue(cfg, StorageLayout.KEY_SALT_VALUE, RegistryValue.binary(fresh)).build()).ungated());
                    continue;
                }
                RegistryValue s = salt.get().value();
                if (s.type() != ValueType.BINARY || s.size() < 16) {
                    throw new DataIntegrityException(cfg + "/" + StorageLayout.KEY_SALT_VALUE + " is not 16+ bytes of BINARY");
                }
                return s.data();
            } catch (ConditionFailedException raced) {
                // another process (or, at a site, another site's shipper) initialised the root at the same moment: read what it wrote
            }
        }
        throw new StoreUnavailableException("the layout of " + layout.root() + " in " + registryUri + " kept changing during"
                + " initialisation (" + LAYOUT_ATTEMPTS + " attempts)");
    }

    // ---- StoreFactory ------------------------------------------------------------------------

    @Override
    public String providerName() {
        return PROVIDER;
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        ensureOpen();
        EntityIds.requireValidTypeName(typeName);
        java.util.Objects.requireNonNull(type, "type");
        ConflictResolver<T> resolver = null;
        if (config.conflictResolution() == ConflictResolution.MERGE) {
            resolver = config.conflictResolver(type).orElseThrow(() -> new ConfigurationException("conflictResolution = Merge "
                    + "but no ConflictResolver is registered for " + type.getName() + " (store " + typeName + ")"));
        }
        if (siteLinks != null && config.crossSiteConflicts() == CrossSiteConflicts.MERGE && config.conflictResolver(type).isEmpty()) {
            throw new ConfigurationException("crossSiteConflicts = Merge but no ConflictResolver is registered for " + type.getName()
                    + " (store " + typeName + ")");
        }
        RegistryEntityStore<T> store = new RegistryEntityStore<>(this, typeName, type, resolver);
        stores.add(store);
        if (closed) {
            store.close();
            ensureOpen();
        }
        return store;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (siteLinks != null) {
            siteLinks.close();
        }
        if (preferred != null) {
            preferred.close();
        }
        for (RegistryEntityStore<?> s : new ArrayList<>(stores)) {
            s.close();
        }
        caches.close();
        maintenance.shutdownNow();
        try {
            // a health check still running could raise the fault after the removal below
            if (!maintenance.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("a maintenance task of the factory on {} was still running after 10 s; closing anyway", registry.uri());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (backups != null) {
            backups.close();
        }
        membership.close();
        if (healthFaultRaised) {
            try {
                registry.removeHealthFault(healthFaultId);
            } catch (RuntimeException e) {
                LOG.debug("could not remove health fault {} while closing", healthFaultId, e);
            }
        }
        events.close();
        try {
            releaseRegistry.run();
        } finally {
            if (ownAsyncPool != null) {
                // after the registry: a registry this factory opened answers the async writes still in flight as it closes,
                // and their answers run here; calls already running finish; new ones fail as closed (AbstractEntityStore.async)
                ownAsyncPool.shutdown();
                awaitAnswers(ownAsyncPool);
            }
            if (audit != null) {
                audit.close(); // last: the answers above audit the writes they acknowledge
            }
        }
    }

    /** Waits, boundedly, for the answers and calls still running on the factory's own pool. */
    private void awaitAnswers(ExecutorService pool) {
        if (poolThreads.contains(Thread.currentThread())) {
            return; // closed from an async call's callback: waiting would wait for this very call
        }
        try {
            if (!pool.awaitTermination(ANSWERS_ON_CLOSE.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("closing the cluster-registry factory on {}: async calls were still running after {}; the audit log closes"
                        + " anyway, and a write they acknowledge later fails as unaudited", registry.uri(), ANSWERS_ON_CLOSE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreClosedException("cluster-registry factory on " + registry.uri());
        }
    }

    /** The participant side (the key rotation counts what prepared branches hold). */
    RegistryTransactions transactions() {
        return transactions;
    }

    // ---- TransactionalResource: the participant lives in RegistryTransactions ----------------

    @Override
    public String resourceManagerId() {
        return transactions.resourceManagerId();
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        return transactions.begin(id);
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return transactions.branch(id);
    }

    @Override
    public List<TransactionId> recover() {
        return transactions.recover();
    }

    @Override
    public void commitPrepared(TransactionId id) {
        transactions.commitPrepared(id);
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        transactions.rollbackPrepared(id);
    }

    void checkOpen() {
        ensureOpen();
    }

    // ---- shared services ---------------------------------------------------------------------

    boolean isClosed() {
        return closed;
    }

    void forget(RegistryEntityStore<?> store) {
        stores.remove(store);
    }

    ClusterPersistenceConfiguration config() {
        return config;
    }

    ClusterRegistry registry() {
        return registry;
    }

    StorageLayout layout() {
        return layout;
    }

    RegistryGateway gateway() {
        return gateway;
    }

    /** The records of one entity type; {@code onRetry} counts the retries of its reads in a store's metrics. */
    EntityRecords records(String typeName, Runnable onRetry) {
        return new EntityRecords(gateway, layout, transactions.locksOf(typeName), typeName, onRetry);
    }

    /** The local caches, one per entity type. */
    TypeCaches caches() {
        return caches;
    }

    Executor asyncExecutor() {
        return asyncExecutor;
    }

    /** The factory's maintenance thread (health checks, dictionary training, bookkeeping writes off a writer's thread). */
    Executor maintenance() {
        return maintenance;
    }

    EventHub events() {
        return events;
    }

    DictionaryManager dictionaries() {
        return dictionaries;
    }

    /**
     * A factory of a tool that only checks what is stored: opening a store writes no type descriptor,
     * and opening the factory neither checks its keys against the key check record nor records them
     * (each value it cannot decrypt is reported as such).
     */
    boolean checkingOnly() {
        return checkingOnly;
    }

    /** The stamped writes of a store at a site; null for a single-site store. */
    LocalWrites siteWrites() {
        return siteWrites;
    }

    EnvelopeCodec envelopeCodec() {
        return envelopeCodec;
    }

    /** How the stores encode entities (the configuration's codec). */
    EntityCodec codec() {
        return config.codec();
    }

    String nodeName() {
        return nodeName;
    }

    int maxValueBytes() {
        return maxValueBytes;
    }

    /** Whether writes are audited. */
    boolean audited() {
        return audit != null;
    }

    /**
     * Records completed operations in the audit log (nothing when it is off). {@code type}/{@code id}
     * are null for a transaction outcome, {@code tx} is null outside transactions.
     */
    void audit(String op, String type, List<String> ids, List<Long> versions, String tx) {
        if (audit == null) {
            return;
        }
        String principal = principal();
        List<AuditLog.Entry> entries = new ArrayList<>(Math.max(1, ids.size()));
        if (ids.isEmpty()) {
            entries.add(new AuditLog.Entry(op, principal, layout.root().toString(), type, null, 0, tx));
        }
        for (int i = 0; i < ids.size(); i++) {
            entries.add(new AuditLog.Entry(op, principal, layout.root().toString(), type, ids.get(i), versions.get(i), tx));
        }
        audit.append(entries);
    }

    /** One operation of {@link #audit(List, String)}; {@code type}/{@code id} null for a transaction outcome. */
    record Audited(String op, String type, String id, long version) {
    }

    /** Records the operations of one transaction in the audit log together: one write, one fsync. */
    void audit(List<Audited> operations, String tx) {
        if (audit == null || operations.isEmpty()) {
            return;
        }
        String principal = principal();
        List<AuditLog.Entry> entries = new ArrayList<>(operations.size());
        for (Audited o : operations) {
            entries.add(new AuditLog.Entry(o.op(), principal, layout.root().toString(), o.type(), o.id(), o.version(), tx));
        }
        audit.append(entries);
    }

    private String principal() {
        try {
            return config.hooks().principal().filter(p -> !p.isBlank()).orElseGet(() -> System.getProperty("user.name"));
        } catch (RuntimeException e) {
            return "unknown (ClusterHooks.principal() threw " + e.getClass().getSimpleName() + ")";
        }
    }

    // ---- membership and health ---------------------------------------------------------------

    private void onMembership(MembershipEvent event) {
        if (event instanceof MembershipEvent.PrimaryChanged p) {
            events.publish(new StoreEvent.NodeFailover(Instant.now(), p.oldPrimary(), p.newPrimary(), p.requested()));
        } else if (event instanceof MembershipEvent.NodeStateChanged n) {
            try {
                gateway.liveNodes(RegistryGateway.serving(registry.status()));
            } catch (RuntimeException e) {
                long live = gateway.liveNodes();
                boolean before = n.oldState() == NodeState.UP || n.oldState() == NodeState.PAUSED;
                boolean after = n.newState() == NodeState.UP || n.newState() == NodeState.PAUSED;
                gateway.liveNodes(before == after ? live : after ? live + 1 : Math.max(0, live - 1));
            }
        }
    }

    /** The periodic task: a scheduled task that throws is never run again, and the last health state would stay for good. */
    private void healthCheckThatGoesOn() {
        try {
            runHealthCheck();
        } catch (Exception | Error e) { // Exception: a hook in another JVM language may throw a checked one undeclared
            LOG.error("a health check failed unexpectedly; the next one runs as planned", e);
        }
    }

    /** One health check; runs on the maintenance thread every healthCheckInterval. */
    void runHealthCheck() {
        if (closed) {
            return;
        }
        List<String> reasons = new ArrayList<>();
        try {
            HealthReport report = registry.checkHealth();
            if (!report.healthy()) {
                reasons.add("registry " + registry.uri() + " is unhealthy: " + report.detail());
            }
        } catch (RuntimeException e) {
            reasons.add("registry " + registry.uri() + " health probe failed: " + e.getMessage());
        }
        try {
            ClusterStatus status = registry.status();
            long serving = RegistryGateway.serving(status);
            gateway.liveNodes(serving);
            if (serving < config.minimumNodes()) {
                reasons.add("only " + serving + " node(s) are up or drained; minimumNodes = " + config.minimumNodes());
            }
            List<String> affinity = config.nodeAffinity();
            if (!affinity.isEmpty()) {
                status.primary().filter(p -> !affinity.contains(p)).ifPresent(p ->
                        reasons.add("primary node " + p + " is outside nodeAffinity " + affinity));
                boolean anyUp = status.nodes().stream().anyMatch(n -> affinity.contains(n.name()) && n.state() == NodeState.UP);
                if (!anyUp) {
                    reasons.add("none of the nodeAffinity nodes " + affinity + " is up");
                }
            }
        } catch (RuntimeException e) {
            reasons.add("cluster status unavailable: " + e.getMessage());
        }
        Optional<String> hostReason;
        try {
            hostReason = config.hooks().unhealthyReason();
        } catch (Exception | Error e) {
            // an Error too (a class missing during a redeploy), or a checked exception thrown undeclared (Kotlin): a reason
            hostReason = Optional.of("the host's health check threw " + e);
        }
        hostReason.ifPresent(r -> reasons.add("node " + nodeName + ": " + r));
        String early = String.join("; ", reasons);
        String last = lastHealthFailure;
        if (!reasons.isEmpty() && (last == null || !last.startsWith(early + "; cannot update health fault "))) {
            // told before the fault is written: with the registry unreachable that write waits up to failoverTimeout. Not
            // when the last failure was this one with the fault's own failure after it (it would flap between the two)
            publishHealth(reasons);
        }
        try {
            // without host hooks the fault is another factory's (the application's) to raise and clear
            if (hostHooks && hostReason.isPresent()) {
                healthFaultRaised = true; // before: an add whose answer was lost may have landed, and must be removed later
                registry.addHealthFault(new HealthFault(healthFaultId, 1, 0, hostReason.get(), "ReliableStore", 0));
            } else if (hostHooks && healthFaultRaised) {
                registry.removeHealthFault(healthFaultId);
                healthFaultRaised = false;
            }
        } catch (RuntimeException e) {
            reasons.add("cannot update health fault " + healthFaultId + ": " + e.getMessage());
        }
        publishHealth(reasons);
    }

    /** Publishes a failure when its reasons changed, or the recovery; nothing once closing (it interrupts the probes). */
    private void publishHealth(List<String> reasons) {
        if (closed) {
            return; // closing interrupted the probe: that is no failure to report
        }
        if (!reasons.isEmpty()) {
            String reason = String.join("; ", reasons);
            if (!reason.equals(lastHealthFailure)) {
                lastHealthFailure = reason;
                LOG.warn("health check failed: {}", reason);
                events.publish(new StoreEvent.HealthCheckFailed(Instant.now(), reason));
            }
        } else if (lastHealthFailure != null) {
            lastHealthFailure = null;
            LOG.info("health checks pass again");
            events.publish(new StoreEvent.HealthRestored(Instant.now()));
        }
    }

    @Override
    public String toString() {
        return "cluster-registry factory on " + registry.uri() + " at " + layout.root();
    }
}
