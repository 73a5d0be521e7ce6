package dev.reliablestore.cluster;

import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.options.Durations;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A read-only view of what the cluster-registry provider keeps under one root, for tools (status,
 * backup, verify): the layout, the entity types, how many entities each holds, the layout version,
 * the raw envelopes, and — on a factory — the id of the key new values are encrypted with. It never
 * writes entities: a view on a root nothing was stored under yet shows no types and no layout version.
 * It also carries the administrator's node operations ({@link #failover}, {@link #drain},
 * {@link #resume}), which move the primary role and write no entity.
 *
 * <pre>{@code
 * try (ClusterRegistry registry = ClusterRegistries.open("embedded:./data")) {
 *     ClusterStoreAdmin admin = ClusterStoreAdmin.of(registry, RegistryPath.of("RG", "Data"));
 *     admin.counts().forEach((type, n) -> System.out.println(type + ": " + n));
 * }
 * }</pre>
 */
public final class ClusterStoreAdmin {

    private final ClusterRegistry registry;
    private final RegistryGateway gateway;
    private final StorageLayout layout;
    private final String activeKeyId;

    private ClusterStoreAdmin(ClusterRegistry registry, RegistryGateway gateway, StorageLayout layout, String activeKeyId) {
        this.registry = registry;
        this.gateway = gateway;
        this.layout = layout;
        this.activeKeyId = activeKeyId;
    }

    /** A view of {@code root} in a registry the caller holds; each read is tried once. */
    public static ClusterStoreAdmin of(ClusterRegistry registry, RegistryPath root) {
        Objects.requireNonNull(registry, "registry");
        RegistryGateway once = new RegistryGateway(registry, new Retrier(0, Duration.ZERO, Duration.ZERO, registry.uri()),
                ReplicationMode.SYNCHRONOUS, 1, 1);
        return new ClusterStoreAdmin(registry, once, new StorageLayout(Objects.requireNonNull(root, "root")), null);
    }

    /**
     * A view of what a cluster-registry factory stores, with its retries and its keys.
     *
     * @throws IllegalArgumentException when {@code factory} is not a cluster-registry factory
     */
    public static ClusterStoreAdmin of(StoreFactory factory) {
        if (!(factory instanceof ClusterStoreFactory cluster)) {
            throw new IllegalArgumentException("not a cluster-registry factory: " + factory);
        }
        EnvelopeCodec codec = cluster.envelopeCodec();
        return new ClusterStoreAdmin(cluster.registry(), cluster.gateway(), cluster.layout(), codec.encrypts() ? codec.keys().activeKeyId() : null);
    }

    /**
     * A factory for a tool that only checks what is stored (decoding every entity with the keys of
     * {@code configuration}): as {@link ClusterPersistenceProvider#open(ClusterPersistenceConfiguration, ClusterRegistry)},
     * except that opening a store never reseals its zstd dictionaries under the active key (an
     * application's factory does; done by a check with a new key ring, it would leave nodes that
     * only have the old keys unable to read values compressed with them) and never writes the type's
     * descriptor (a site that received a type's entities but not its descriptor would get this
     * tool's codec recorded, and the application's own codec refused from then on).
     */
    public static StoreFactory openForChecking(ClusterPersistenceConfiguration configuration, ClusterRegistry registry) {
        ClusterStoreFactory factory = ClusterStoreFactory.onRegistry(configuration, registry, true);
        factory.dictionaries().neverReseal();
        return factory;
    }

    /**
     * What a multi-site factory's shipping to each other site is doing now, one entry per other site
     * (empty for a factory without sites): answered from the factory's memory, cheap enough for a
     * metric or a health page; see {@link SiteShipping}. {@link #siteLinks} reads the histories.
     *
     * @throws IllegalArgumentException when {@code factory} is not a cluster-registry factory
     */
    public static List<SiteShipping> siteShipping(StoreFactory factory) {
        if (!(factory instanceof ClusterStoreFactory cluster)) {
            throw new IllegalArgumentException("not a cluster-registry factory: " + factory);
        }
        return cluster.siteShipping();
    }

    /**
     * How far each site's writes have reached each other site of a multi-site store kept under
     * {@code root} ({@code sites}: site name → its registry, which the caller holds): one status per
     * ordered pair of sites. Writes one bookkeeping value at each site (never shipped) to know where
     * its history ends, then reads that history from each other site's checkpoint, for at most
     * {@code timeout} per pair.
     */
    public static List<SiteLinkStatus> siteLinks(RegistryPath root, Map<String, ClusterRegistry> sites, Duration timeout) {
        StorageLayout layout = new StorageLayout(Objects.requireNonNull(root, "root"));
        List<SiteLinkStatus> out = new ArrayList<>();
        for (Map.Entry<String, ClusterRegistry> from : new TreeMap<>(sites).entrySet()) {
            for (Map.Entry<String, ClusterRegistry> to : new TreeMap<>(sites).entrySet()) {
                if (!from.getKey().equals(to.getKey())) {
                    out.add(SiteReplication.linkStatus(layout, from.getKey(), from.getValue(), to.getKey(), to.getValue(),
                            EnvelopeCodec::peekStamp, timeout));
                }
            }
        }
        return out;
    }

    /**
     * Repairs site {@code to} from site {@code from} of a multi-site store (docs/geo-replication.md,
     * Operations): every entity {@code from} holds is merged into {@code to} as a shipped write would
     * be (the later stamp wins), then {@code to}'s checkpoint for {@code from} moves to where
     * {@code from}'s history stood when the repair began, and {@code from}'s shipper, which retries a
     * stopped shipment on its own, goes on from there. {@code config} is the store's own (its sites,
     * keys, {@code crossSiteConflicts} and window); the caller holds both registries. Safe while the
     * sites are written to. A conflict the repair settles at {@code to} is kept as the store's
     * {@code crossSiteConflicts} says (a conflict record; a merge owed, made by {@code to}'s
     * shipper-lease holder), as a shipped batch would keep it. The entities {@code to} holds that
     * {@code from} holds nothing of and that were last written longer ago than the
     * conflict-resolution window are counted as stale, and left. The sites are compared by range
     * hashes: a site whose factory holds its shipper lease hashes its own entities, another is read
     * whole by this call, and only entities whose stamps differ are read whole from {@code from}.
     *
     * @param from the site to repair from, as named in the store's sites
     * @param to   the site to repair
     */
    public static SiteReplication.Resynced resync(ClusterPersistenceConfiguration config, String from, ClusterRegistry fromRegistry,
                                                  String to, ClusterRegistry toRegistry) {
        return resync(config, config.crossSiteConflicts(), config.conflictResolutionWindow(), config.maxClockSkew(),
                config.conflictResolutionWindow(), false, from, fromRegistry, to, toRegistry);
    }

    /**
     * {@link #resync(ClusterPersistenceConfiguration, String, ClusterRegistry, String, ClusterRegistry)}
     * for a tool whose {@code config} gives only the root and the keys.
     *
     * @param config      the root and the keys
     * @param conflicts   the store's {@code crossSiteConflicts}
     * @param conflictWindow the store's {@code conflictResolutionWindow}: a tombstone older than it and
     *                    the skew is met by a later write as collected, as shipping meets it
     * @param maxClockSkew the store's {@code maxClockSkew}, added to both ages as shipping adds it
     * @param staleAfter  how long ago an entity {@code to} holds and {@code from} holds nothing of was last
     *                    written, at least, to be stale: the store's {@code conflictResolutionWindow} or
     *                    more (less would take for stale a write that {@code from} will still receive);
     *                    null: none is looked for
     * @param removeStale delete the stale entities at {@code to} (each by a delete stamped just after its
     *                    last write, so that nothing written since is lost): for a site restored from a copy
     *                    older than the window, which holds entities the others deleted and no longer keep
     *                    tombstones of
     * @throws IllegalArgumentException {@code staleAfter} shorter than {@code conflictWindow}, or than a minute;
     *                                  {@code maxClockSkew} outside the option's limits
     * @throws dev.reliablestore.api.PersistenceException {@code from} holds no store under the root (nothing is written)
     * @throws dev.reliablestore.api.ConfigurationException {@code conflicts}, {@code conflictWindow} or {@code maxClockSkew}
     *                                  differ from the settings a site's shipper-lease holder recorded (nothing is written)
     */
    public static SiteReplication.Resynced resync(ClusterPersistenceConfiguration config, CrossSiteConflicts conflicts,
                                                  Duration conflictWindow, Duration maxClockSkew, Duration staleAfter,
                                                  boolean removeStale, String from, ClusterRegistry fromRegistry, String to,
                                                  ClusterRegistry toRegistry) {
        if (maxClockSkew.compareTo(ClusterPersistenceConfiguration.MIN_CLOCK_SKEW) < 0
                || maxClockSkew.compareTo(ClusterPersistenceConfiguration.MAX_CLOCK_SKEW_LIMIT) > 0) {
            throw new IllegalArgumentException("the maximum clock skew is " + Durations.format(maxClockSkew) + "; a store's is "
                    + Durations.format(ClusterPersistenceConfiguration.MIN_CLOCK_SKEW) + " .. "
                    + Durations.format(ClusterPersistenceConfiguration.MAX_CLOCK_SKEW_LIMIT));
        }
        if (staleAfter != null && staleAfter.compareTo(conflictWindow) < 0) {
            throw new IllegalArgumentException("the age that makes an entity stale is " + staleAfter + "; it must be at least the store's"
                    + " conflict-resolution window, " + conflictWindow);
        }
        if (of(fromRegistry, config.root()).layoutVersion().isEmpty()) {
            // a wrong registry or root: opened, it would get a store of its own, and {@code to} would be compared against
            // nothing (with removeStale, every entity of it older than staleAfter deleted)
            throw new dev.reliablestore.api.PersistenceException("nothing to resync from: site " + from + " (" + fromRegistry.uri()
                    + ") holds no store under " + config.root());
        }
        java.util.concurrent.Executor direct = Runnable::run; // dictionaries are only read: nothing runs in the background
        SiteReplication.Site source = SiteLinks.site(config, from, fromRegistry, direct);
        SiteReplication.Site target = SiteLinks.site(config, to, toRegistry, direct);
        for (SiteReplication.Site s : List.of(target, source)) {
            // judged by another window, a tombstone the sites keep would count as collected, or one they collected as kept
            Optional<String> recorded = SiteReplication.recordedOtherwise(s, conflictWindow, maxClockSkew, conflicts);
            if (recorded.isPresent()) {
                throw new dev.reliablestore.api.ConfigurationException("the resync would run with "
                        + SiteReplication.sharedSettings(conflictWindow, maxClockSkew, conflicts) + ", but site " + s.name()
                        + " runs with " + recorded.get() + "; resync with the store's own settings");
            }
        }
        return SiteReplication.resync(source, target, conflicts, staleAfter, conflictWindow, maxClockSkew, removeStale);
    }

    /**
     * The conflict records {@code site} keeps of entity type {@code type} (docs/geo-replication.md,
     * Conflict records), oldest settled first, opened with the keys of {@code config} (the store's
     * own configuration will do); the caller holds the site's registry. Empty when it keeps none.
     * Refused ({@code PersistenceException}) when the site holds no store under the root.
     *
     * @throws dev.reliablestore.api.DataIntegrityException a record is damaged, forged, or sealed with a key {@code config} lacks
     */
    public static List<ConflictRecord> conflictRecords(ClusterPersistenceConfiguration config, String site, ClusterRegistry registry,
                                                       String type) {
        // a tool's read: a root mistyped must not get a store's layout created under it
        if (!registry.keyExists(config.root())) {
            throw new dev.reliablestore.api.PersistenceException("site " + site + " (" + registry.uri() + ") holds no store under "
                    + config.root());
        }
        return SiteReplication.conflictRecords(SiteLinks.site(config, site, registry, Runnable::run), type);
    }

    public StorageLayout layout() {
        return layout;
    }

    /** The entity types stored under the root, sorted; empty when there are none. */
    public List<String> types() {
        return types(gateway, layout);
    }

    static List<String> types(RegistryGateway gateway, StorageLayout layout) {
        return gateway.read("listing of entity types under " + layout.root(), ReadBatch.of(new ReadBatch.SubkeysRead(layout.entities())))
                .subkeys(0).map(names -> names.stream().sorted().toList()).orElse(List.of());
    }

    /** Entities per type, counted from the version records of every type at one point in time. */
    public Map<String, Long> counts() {
        Map<String, Long> counts = new TreeMap<>();
        List<String> types = types();
        if (types.isEmpty()) {
            return counts;
        }
        List<ReadBatch.Read> reads = types.stream().<ReadBatch.Read>map(t -> new ReadBatch.ValuesRead(layout.versions(t))).toList();
        ReadBatchResult r = gateway.read("count of the entities under " + layout.root(), ReadBatch.of(reads));
        for (int i = 0; i < types.size(); i++) {
            counts.put(types.get(i), (long) r.values(i).map(Map::size).orElse(0));
        }
        return counts;
    }

    /**
     * The id of the codec a type's entities were written with, from its descriptor; empty when the
     * type has none. Read only: a tool checks every type it will open before opening any (opening a
     * store loads its type's dictionaries, resealing them under the active key).
     */
    public Optional<String> codecId(String type) {
        return TypeDescriptor.storedCodecId(gateway, layout, type);
    }

    /**
     * Whether a type's descriptor says its values are encrypted (a factory without encryption may
     * not write it); false when the type has none. Read only, as {@link #codecId}.
     */
    public boolean encrypted(String type) {
        return TypeDescriptor.storedEncrypted(gateway, layout, type);
    }

    /** The layout version stored under the root; empty before a factory first opened it. */
    public Optional<Integer> layoutVersion() {
        return gateway.value("read of the layout version", layout.configuration(), StorageLayout.VERSION_VALUE)
                .map(VersionedValue::value).filter(v -> v.type() == ValueType.DWORD).map(v -> v.asDword());
    }

    /**
     * The mark of a restore into the root that has not finished ({@code Configuration/RestoreInProgress}),
     * or into a root that encloses it (a store nested in another's root is deleted and rewritten by a
     * restore of that one): present while a restore runs and after one stopped part-way, when the root holds
     * part of a backup and a factory refuses to open it ({@link UnfinishedRestoreException}); empty otherwise.
     */
    public Optional<RestoreMarker> unfinishedRestore() {
        List<RegistryPath> places = new ArrayList<>();
        places.add(layout.configuration());
        places.addAll(layout.enclosingConfigurations());
        ReadBatchResult r = gateway.read("read of the restore marks", ReadBatch.of(places.stream()
                .<ReadBatch.Read>map(p -> new ReadBatch.ValueRead(p, StorageLayout.RESTORE_IN_PROGRESS_VALUE)).toList()));
        for (int i = 0; i < places.size(); i++) {
            Optional<VersionedValue> mark = r.value(i);
            if (mark.isPresent()) {
                return Optional.of(RestoreMarker.of(mark.get().value()));
            }
        }
        return Optional.empty();
    }

    /**
     * The names of the prepared transaction branches recorded under the root ({@code Transactions/TX-…}),
     * in doubt until their coordinator commits or rolls them back (transactions.md); empty when none.
     * Read from one point in time, without a read barrier (a tool that must see a prepare acknowledged
     * through another server calls the registry's {@code readBarrier()} first).
     */
    public List<String> preparedTransactions() {
        RegistryPath transactions = layout.root().child(RegistryTransactions.TRANSACTIONS);
        return gateway.values("listing of prepared transactions", transactions).orElse(Map.of()).keySet().stream()
                .filter(name -> name.startsWith(RegistryTransactions.RECORD_PREFIX)).sorted().toList();
    }

    /** The id of the key new values are encrypted with; empty when encryption is off or the view is not on a factory. */
    public Optional<String> activeKeyId() {
        return Optional.ofNullable(activeKeyId);
    }

    /**
     * The raw values of every entity of a type, from one point in time, in id order: what a backup
     * copies and what a check decodes with {@link ClusterPersistenceStore#codec()}.
     */
    public List<StoredEntity> entities(String type) {
        ReadBatchResult r = gateway.read("read of all " + type + " entities", ReadBatch.of(
                new ReadBatch.ValuesRead(layout.type(type)), new ReadBatch.ValuesRead(layout.versions(type))));
        Map<String, VersionedValue> envelopes = r.values(0).orElse(Map.of());
        Map<String, VersionedValue> versions = r.values(1).orElse(Map.of());
        TreeSet<String> ids = new TreeSet<>(envelopes.keySet());
        ids.remove(StorageLayout.METADATA);
        ids.addAll(versions.keySet());
        List<StoredEntity> out = new ArrayList<>(ids.size());
        for (String id : ids) {
            Optional<VersionedValue> envelope = Optional.ofNullable(envelopes.get(id));
            Optional<VersionedValue> version = Optional.ofNullable(versions.get(id));
            String problem = EntityRecords.mismatch(envelope, version);
            out.add(new StoredEntity(id, problem == null ? envelope.get().value().data() : null,
                    problem == null ? version.get().value().asQword() : -1, problem));
        }
        return out;
    }

    /**
     * How many stored values of {@code type} each key id protects ({@code ""}: not encrypted; {@code "?"}: a
     * prepared transaction record that cannot be read), read from headers only, so no key is needed: the
     * same count as {@link ClusterPersistenceStore#keyUsage()} — entities, the type's zstd dictionaries,
     * tombstones, the markers of merges a site owes and the writes of prepared transactions. A key may be
     * removed from the key ring only when no type counts it (docs/security.md).
     */
    public Map<String, Long> keyUsage(String type) {
        return KeyUsage.of(gateway, layout, type);
    }

    /**
     * Moves the primary role to {@code target}, or to the backend's choice when empty, after the
     * target passed validation (up, not drained, healthy, caught up); every store of the cluster then
     * publishes {@link dev.reliablestore.api.StoreEvent.NodeFailover} with {@code requested} true.
     * What a node is on each backend is in docs/reliability.md.
     *
     * @return the new primary
     * @throws dev.reliablestore.registry.NodeOperationRefusedException the reason the target was refused, or the move timed out
     */
    public String failover(Optional<String> target) {
        return registry.failover(Objects.requireNonNull(target, "target"));
    }

    /**
     * The registry's view of its cluster: backend, this node, the primary, every node's state, as the
     * backend knows it (embedded and ZooKeeper from memory, clusapi from the cluster). Asked once,
     * without retries: a registry that cannot answer throws (e.g. {@code RegistryClosedException}),
     * which is what a health check wants to know.
     */
    public dev.reliablestore.registry.ClusterStatus status() {
        return registry.status();
    }

    /** Takes a node out of the primary role until {@link #resume}; see {@link ClusterRegistry#drain}. */
    public void drain(String node) {
        registry.drain(node);
    }

    /** Makes a drained node eligible for the primary role again; see {@link ClusterRegistry#resume}. */
    public void resume(String node) {
        registry.resume(node);
    }

    /**
     * One entity as stored.
     *
     * @param envelope the envelope as stored; null when {@code problem} is set
     * @param version  the version record; -1 when {@code problem} is set
     * @param problem  why the two values do not make an entity (one is missing, wrong types, not
     *                 written together), or null
     */
    public record StoredEntity(String id, byte[] envelope, long version, String problem) {
    }
}
