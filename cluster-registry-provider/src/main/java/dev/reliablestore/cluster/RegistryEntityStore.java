package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreEventListener;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.cluster.EntityRecords.Current;
import dev.reliablestore.cluster.EntityRecords.Stored;
import dev.reliablestore.cluster.geo.ClockSkewException;
import dev.reliablestore.cluster.geo.LocalWrites;
import dev.reliablestore.cluster.geo.SiteReplication;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.spi.AbstractEntityStore;
import dev.reliablestore.api.EntityIds;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;

/**
 * One entity type on the registry. Every write is one atomic batch whose first command is a
 * condition on the entity's version record ({@code _versions/<Id>}): "revision equals" the revision
 * read just before, or "value absent" for a create. The registry decides the race at commit;
 * nothing is ever read-then-written unconditionally.
 */
final class RegistryEntityStore<T> extends AbstractEntityStore<T> implements ClusterPersistenceStore<T> {

    /** A save is: version condition, lock-absent condition, envelope, version record (see condition()). */
    static final int COMMANDS_PER_SAVE = 4;
    /** A delete in clear(): version-exists condition, lock-absent condition, two deletes. */
    static final int COMMANDS_PER_DELETE = 4;

    /** How often an unconditional write re-reads and tries again when others keep winning the race. */
    static final int MAX_RACE_ATTEMPTS = 100;

    private final ClusterStoreFactory factory;
    private final Class<T> type;
    private final StoreCodec<T> json;
    /** Entities from decoded values: fresh, or the instance shared by a cache entry (CachedReads). */
    private final Materialiser<T> materialiser;
    private final EnvelopeCodec envelopes;
    private final RegistryGateway gateway;
    private final EntityRecords records;
    /** What reads see: decoded records, with the local cache in front when it is on. */
    private final EntityValues values;
    private final KeyRotation keyRotation;
    private final ConflictResolution resolution;
    private final ConflictResolver<T> resolver;
    private final int maxValueBytes;
    /** A store at a site: every write stamped for the other sites (docs/geo-replication.md); null for a single-site store. */
    private final LocalWrites sites;

    /** Whether the type's descriptor is known to say it is encrypted (read at open, or marked by this store since). */
    private final java.util.concurrent.atomic.AtomicBoolean encryptedMarked;

    RegistryEntityStore(ClusterStoreFactory factory, String typeName, Class<T> type, ConflictResolver<T> resolver) {
        super(typeName, factory.asyncExecutor());
        this.factory = factory;
        this.type = type;
        this.json = new StoreCodec<>(factory.codec(), type);
        this.materialiser = new Materialiser<>(json, factory.config().cachedReads(typeName));
        this.envelopes = factory.envelopeCodec();
        this.gateway = factory.gateway();
        this.records = factory.records(typeName, this::countRetry);
        this.resolution = factory.config().conflictResolution();
        this.resolver = resolver;
        this.maxValueBytes = factory.maxValueBytes();
        this.sites = factory.siteWrites();
        // the descriptor's checks first: loading the dictionaries reseals them under the active key, which a store
        // refused (another codec) must not have done
        this.encryptedMarked = new java.util.concurrent.atomic.AtomicBoolean(TypeDescriptor.open(factory, typeName, type));
        factory.dictionaries().open(typeName);
        EntityValues decoded = new DecodedRecords(records, envelopes);
        // the local cache is the type's, shared by every store of the type this factory opens
        TypeCaches.Handle cache = factory.config().enableLocalCache() ? factory.caches().acquire(records) : null;
        this.values = cache != null ? new CachedValues(decoded, cache, this::countCacheHit, this::countCacheMiss) : decoded;
        records.observer(values); // what a read finds (a conflict, a delete, a getAll or count) is never followed by an older hit
        this.keyRotation = new KeyRotation(factory, records, values::written, this::countRetry);
        if (cache != null && cache.first() && factory.config().preloadCache()) {
            try {
                doGetAll(null);
            } catch (RuntimeException e) {
                values.close();
                throw e;
            }
        }
    }

    // ---- reads -------------------------------------------------------------------------------

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        StorageLayout.requireStorableId(id);
        EntityValues.Decoded d = values.get(List.of(id)).values().get(id);
        return d == null ? Optional.empty() : Optional.of(materialise(id, d));
    }

    @Override
    protected Map<String, Versioned<T>> doGetMany(List<String> ids) {
        ids.forEach(StorageLayout::requireStorableId);
        Map<String, EntityValues.Decoded> found = values.get(ids).values();
        Map<String, Versioned<T>> ordered = new LinkedHashMap<>();
        for (String id : ids) {
            EntityValues.Decoded d = found.get(id);
            if (d != null) {
                ordered.put(id, materialise(id, d));
            }
        }
        return ordered;
    }

    @Override
    protected boolean doExists(String id) {
        StorageLayout.requireStorableId(id);
        return values.exists(id);
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        Map<String, EntityValues.Decoded> all = values.all().values();
        List<Versioned<T>> out = new ArrayList<>(all.size());
        for (Map.Entry<String, EntityValues.Decoded> d : all.entrySet()) {
            Versioned<T> entity = materialise(d.getKey(), d.getValue());
            if (filter == null || filter.test(entity.value())) {
                out.add(entity);
            }
        }
        return out;
    }

    @Override
    protected long doCount(Predicate<? super T> filter) {
        if (filter != null) {
            return doGetAll(filter).size();
        }
        return records.index("count of " + typeName() + " entities").versions().size();
    }

    /** A fresh entity, or for a cache hit of a type whose instances may be shared, the shared one. */
    private Versioned<T> materialise(String id, EntityValues.Decoded d) {
        return new Versioned<>(id, materialiser.value(d, where(id)), d.version());
    }

    /**
     * A condition on {@code stale} failed, so a newer write has committed; a backend may show it to
     * readers only once it is durable (the embedded registry publishes a SYNC batch after its fsync).
     * Waits, with growing pauses up to about a second in all, until the version record changes.
     */
    private Current awaitChange(String id, Current stale) {
        long pause = 10_000;
        long deadline = System.nanoTime() + 1_000_000_000L;
        Current seen = stale;
        while (seen.equals(stale) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 2_000_000);
            seen = records.current(id);
        }
        return seen;
    }

    /**
     * The sequence our write is visible at, if the stored envelope is exactly ours. Otherwise an
     * unconditional save is planned again ({@code lostAnswer} remembers that it may have landed), but a
     * conditional one cannot tell "never landed" from "landed, then overwritten or deleted by another
     * writer": it fails with the outcome unknown rather than report a conflict (nothing written) for a
     * write that may have taken effect, or resolve that conflict by applying itself a second time.
     * {@code read} is the version record the save was planned on: one still at that revision (of an
     * entity that existed) shows the save did not land (the retry failed on something else, e.g. a
     * transaction's lock), so its own conflict or lock is reported rather than an unknown outcome.
     */
    private OptionalLong landedAt(String id, byte[] envelope, long expectedVersion, long version, Current read, LostAnswer lostAnswer) {
        Stored now = readStored(id);
        if (now != null && Arrays.equals(now.envelope(), envelope)) {
            return OptionalLong.of(now.revision());
        }
        // a record still at the revision it was read at proves the save did not land; absence has no revision, so an
        // entity absent then and now may have been created by the save and deleted since
        if (read != null && read.version() != Versioned.ABSENT && records.current(id).equals(read)) {
            return OptionalLong.empty();
        }
        if (expectedVersion != ANY_VERSION) {
            throw new StoreUnavailableException("save of " + where(id) + " expecting version " + expectedVersion + ": an attempt"
                    + " was sent and its answer lost, and the entity now holds " + (now == null ? "nothing (deleted)"
                    : "version " + now.version()) + " written since (by another writer, or rewritten by a re-encryption), so whether"
                    + " this save took effect (as version "
                    + version + ") before that is unknown; read the entity to decide", null, true);
        }
        return lostAnswer.unsettled();
    }

    /**
     * {@link #landedAt} for a batch, planned on {@code read}: empty when an entity of it still at the
     * revision it was read at (one that existed) shows it did not land; otherwise {@code lostAnswer}
     * remembers that it may have, and it is planned again.
     */
    private OptionalLong batchLandedAt(List<String> ids, java.util.function.IntFunction<byte[]> envelopeOf, List<Current> read,
                                       LostAnswer lostAnswer) {
        OptionalLong landed = records.landedAt(ids, envelopeOf);
        if (landed.isPresent()) {
            return landed;
        }
        List<Current> now = records.currents(ids);
        for (int i = 0; i < ids.size(); i++) {
            if (read.get(i).version() != Versioned.ABSENT && now.get(i).equals(read.get(i))) {
                return OptionalLong.empty();
            }
        }
        return lostAnswer.unsettled();
    }

    /**
     * As {@link #landedAt} for a delete of version {@code deleted}, read at {@code revision}: an
     * entity that is gone counts as this delete's (deleted either way); one still at that revision
     * was not deleted (the retry failed on something else, e.g. a transaction's lock): empty. One
     * written since, by another writer, before this delete landed (a conflict) or after (a
     * re-creation): unknown, rather than report a conflict for a delete that may have taken effect,
     * or delete the new entity a second time.
     */
    private OptionalLong deleteLandedAt(String id, long deleted, long revision) {
        OptionalLong gone = records.absentAt(id);
        if (gone.isPresent()) {
            return gone;
        }
        Current now = records.current(id);
        if (now.revision() == revision) {
            return OptionalLong.empty();
        }
        throw new StoreUnavailableException("delete of " + where(id) + " (version " + deleted + "): an attempt was sent and its answer"
                + " lost, and the entity now holds version " + now.version() + " written since (by another writer, or rewritten by a"
                + " re-encryption), so whether"
                + " this delete took effect before that is unknown; read the entity to decide", null, true);
    }

    private Stored readStored(String id) {
        return records.get(List.of(id)).entities().get(id);
    }

    // ---- writes ------------------------------------------------------------------------------

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        if (SaveProbe.ENABLED) {
            SaveProbe.stamp(SaveProbe.ENTER);
        }
        StorageLayout.requireStorableId(id);
        byte[] plain = json.write(entity);
        if (SaveProbe.ENABLED) {
            SaveProbe.stamp(SaveProbe.JSON);
        }
        return saveEncoded(id, entity, plain, expectedVersion);
    }

    /** An async save encodes its entity on the calling thread: what it writes is the entity as it was when called. */
    @Override
    protected java.util.function.LongSupplier takeForSave(String id, T entity, long expectedVersion) {
        StorageLayout.requireStorableId(id);
        byte[] plain = json.write(entity);
        T taken = snapshot(id, entity, plain);
        return () -> saveEncoded(id, taken, plain, expectedVersion);
    }

    /** The caller's entity as encoded in {@code plain}: read back for a merge, whose resolver is handed it; else the object (not read again). */
    private T snapshot(String id, T entity, byte[] plain) {
        return resolution == ConflictResolution.MERGE ? json.read(plain, where(id)) : entity;
    }

    /** {@link #doSave} of an entity encoded as {@code plain} ({@code entity} is what a merge's resolver is handed). */
    private long saveEncoded(String id, T entity, byte[] plain, long expectedVersion) {
        LostAnswer lostAnswer = new LostAnswer();
        try {
            return sites != null ? saveAtSite(id, entity, plain, expectedVersion, lostAnswer) : saveRacing(id, entity, plain, expectedVersion, lostAnswer);
        } catch (RuntimeException failed) {
            throw unsettled(lostAnswer.failure("save of " + where(id), failed), List.of(id));
        }
    }

    /**
     * {@code failed}, after making the cache forget {@code ids} when its outcome is unknown: the write
     * may have landed, and the caller, told to read to find out, must not be answered the state before it.
     */
    private RuntimeException unsettled(RuntimeException failed, java.util.Collection<String> ids) {
        if (failed instanceof PersistenceException p && p.outcomeUnknown()) {
            ids.forEach(values::unsettled);
        }
        return failed;
    }

    /** {@link #doSave}, re-planned after each lost race; {@code lostAnswer} remembers an earlier attempt that may have landed. */
    private long saveRacing(String id, T entity, byte[] plain, long expectedVersion, LostAnswer lostAnswer) {
        long conflictWith = -1;
        int merges = 0;
        Current known = guess(id, expectedVersion);
        byte[] callers = plain;
        for (int attempt = 1; ; attempt++) {
            Current cur = known != null ? known : records.current(id);
            known = null;
            // each attempt starts from the caller's entity: a merge made for an attempt that lost its race is
            // not what a later one writes when it finds the expected version (after a delete and re-create)
            plain = callers;
            conflictWith = -1;
            if (SaveProbe.ENABLED) {
                SaveProbe.stamp(SaveProbe.VERSION);
            }
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                if (resolution == ConflictResolution.MERGE) {
                    merges++;
                }
                byte[] resolved = resolve(id, entity, plain, expectedVersion, cur.version(), merges, () -> {
                    Stored stored = readStored(id);
                    return stored == null || stored.revision() != cur.revision() ? null
                            : new Versioned<>(id, json.read(envelopes.decode(typeName(), id, stored.version(), stored.envelope()), where(id)),
                            stored.version());
                });
                if (resolved == null) {
                    continue;
                }
                plain = resolved;
                conflictWith = cur.version();
            }
            long next = cur.version() + 1;
            EnvelopeCodec.Encoded enc = encode(id, next, plain);
            WriteBatch.Builder b = WriteBatch.builder();
            records.requireUnchanged(b, id, cur);
            records.put(b, id, next, enc.envelope());
            WriteBatch batch = b.build();
            if (SaveProbe.ENABLED) {
                SaveProbe.stamp(SaveProbe.ENCODED);
            }
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("save of " + where(id), batch).of(typeName(), 1)
                        .visibleWhen(records.key(), id, enc.envelope()).landedIf(() -> landedAt(id, enc.envelope(), expectedVersion, next, cur, lostAnswer))
                        .countingRetries(this::countRetry));
                if (SaveProbe.ENABLED) {
                    SaveProbe.stamp(SaveProbe.COMMITTED);
                }
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                Stored now = readStored(id);
                Current seen = now == null ? Current.ABSENT : new Current(now.version(), now.revision());
                if (seen.equals(cur)) {
                    seen = awaitChange(id, cur);
                }
                if (seen.equals(cur) && expectedVersion != ANY_VERSION && resolution == ConflictResolution.OPTIMISTIC) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), id, expectedVersion,
                            "a concurrent write won the commit and is not readable yet");
                }
                if (attempt >= MAX_RACE_ATTEMPTS) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), id, expectedVersion,
                            "other writers won the race " + attempt + " times in a row");
                }
                known = seen;
                continue;
            }
            countCompression(enc.plainBytes(), enc.compressedBytes());
            saved(id, plain, next, sequence, conflictWith);
            if (SaveProbe.ENABLED) {
                SaveProbe.stamp(SaveProbe.DONE);
            }
            return next;
        }
    }

    /**
     * The JSON to write over a stored version other than the expected one, as
     * {@code conflictResolution} says: the caller's for LastWriteWins, the resolver's merge for
     * Merge ({@code merges} counts them; {@code stored} reads the stored value, null when it changed
     * meanwhile). Null: read again. Optimistic throws.
     */
    private byte[] resolve(String id, T entity, byte[] plain, long expectedVersion, long currentVersion, int merges,
                           java.util.function.Supplier<Versioned<T>> stored) {
        switch (resolution) {
            case OPTIMISTIC -> throw new ConcurrencyConflictException(typeName(), id, expectedVersion, currentVersion);
            case LAST_WRITE_WINS -> {
                return plain;
            }
            case MERGE -> {
                if (currentVersion == Versioned.ABSENT) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, Versioned.ABSENT,
                            "the entity was deleted; there is nothing to merge with");
                }
                if (merges > factory.config().maxRetries() + 1) {
                    throw new ConcurrencyConflictException(typeName(), id, expectedVersion, currentVersion,
                            "the stored value kept changing; gave up after " + (merges - 1) + " merges (maxRetries="
                                    + factory.config().maxRetries() + ")");
                }
                Versioned<T> current = stored.get();
                if (current == null) {
                    return null;
                }
                T merged = resolver.resolve(id, current, entity, expectedVersion);
                if (merged == null) {
                    throw new PersistenceException("the ConflictResolver of " + type.getName() + " returned null for " + where(id));
                }
                return json.write(merged);
            }
            default -> throw new IllegalStateException(String.valueOf(resolution));
        }
    }

    /** After a save committed: what these records and the cache know, the conflict event, the audit. */
    private void saved(String id, byte[] plain, long version, long sequence, long conflictWith) {
        records.remember(id, new Current(version, sequence), sequence);
        values.written(id, new EntityValues.Decoded(plain, version, sequence), sequence);
        if (conflictWith >= 0) {
            countConflict();
            factory.events().publish(this, new StoreEvent.ConflictResolved(Instant.now(), typeName(), id,
                    resolution == ConflictResolution.MERGE ? "Merge" : "LastWriteWins", conflictWith, version));
        }
        markEncrypted(false);
        factory.audit("save", typeName(), List.of(id), List.of(version), null);
    }

    // ---- writes at a site: stamped for the other sites (docs/geo-replication.md) --------------

    /** A conflict between sites that this site's shipper settled at another site: counted, and told to this store's listeners. */
    void siteConflict(StoreEvent.ConflictResolved event) {
        countConflict();
        factory.events().publish(this, event);
    }

    /**
     * The entities' states at this site (envelope, version record, tombstone and lock of each, in one
     * read); what it found of their version records is learned as a version read's is, so the cache
     * never answers older than it.
     */
    private LocalWrites.Read readAtSite(String what, LocalWrites.Reading reading) {
        ReadBatchResult answer = gateway.read(what, ReadBatch.of(reading.reads()), this::countRetry, null);
        LocalWrites.Read read = sites.read(reading, answer);
        read.found().forEach((id, f) ->
                records.learned(id, f.exists() ? new Current(f.version(), f.revision()) : Current.ABSENT, answer.sequence()));
        return read;
    }

    /** {@link #doSave} at a site: the entity's state read (envelope, version, tombstone, lock), the write stamped after it. */
    private long saveAtSite(String id, T entity, byte[] plain, long expectedVersion, LostAnswer lostAnswer) {
        LocalWrites.Reading reading = sites.reading(typeName(), List.of(id));
        long conflictWith = -1;
        int merges = 0;
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            LocalWrites.Read read = readAtSite("save of " + where(id), reading);
            LocalWrites.Found cur = read.found().get(id);
            byte[] toWrite = plain;
            conflictWith = -1;
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                if (resolution == ConflictResolution.MERGE) {
                    merges++;
                }
                toWrite = resolve(id, entity, plain, expectedVersion, cur.version(), merges,
                        () -> new Versioned<>(id, json.read(cur.json(), where(id)), cur.version()));
                conflictWith = cur.version();
            }
            LocalWrites.Plan plan = planAtSite(read, Map.of(id, toWrite));
            long next = plan.version(id);
            Current planned = cur.revision() < 0 ? Current.ABSENT : new Current(cur.version(), cur.revision());
            byte[] envelope = plan.sealed(id);
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("save of " + where(id), batchOf(plan)).of(typeName(), 1)
                        .visibleWhen(records.key(), id, envelope).landedIf(() -> landedAt(id, envelope, expectedVersion, next, planned, lostAnswer))
                        .countingRetries(this::countRetry));
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                raced(attempt, start, id, expectedVersion);
                continue;
            }
            countCompression(plan.plainBytes(), plan.compressedBytes());
            saved(id, toWrite, next, sequence, conflictWith);
            return next;
        }
    }

    /** The version records of {@code ids} as a read at this site found them. */
    private static List<Current> versionRecords(LocalWrites.Read read, List<String> ids) {
        return ids.stream().map(id -> read.found().get(id))
                .map(f -> f.revision() < 0 ? Current.ABSENT : new Current(f.version(), f.revision())).toList();
    }

    /** {@link #doDelete} at a site: the entity leaves a tombstone stamped after its state. */
    private boolean deleteAtSite(String id, long expectedVersion) {
        LocalWrites.Reading reading = sites.reading(typeName(), List.of(id));
        Map<String, byte[]> delete = new java.util.HashMap<>();
        delete.put(id, null);
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            LocalWrites.Read read = readAtSite("delete of " + where(id), reading);
            LocalWrites.Found cur = read.found().get(id);
            if (!cur.exists()) {
                if (expectedVersion == ANY_VERSION) {
                    return false;
                }
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, Versioned.ABSENT);
            }
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, cur.version());
            }
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("delete of " + where(id), batchOf(planAtSite(read, delete)))
                        .of(typeName(), 1).landedIf(() -> deleteLandedAt(id, cur.version(), cur.revision())).countingRetries(this::countRetry));
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                raced(attempt, start, id, expectedVersion);
                continue;
            }
            records.remember(id, Current.ABSENT, sequence);
            values.deleted(id, sequence);
            factory.audit("delete", typeName(), List.of(id), List.of(cur.version()), null);
            return true;
        }
    }

    /**
     * {@link #doSaveBatch} at a site: one stamp for every entity (the batch wins or loses as a whole
     * at every site), bounded so that it also fits in one batch where it is shipped.
     */
    private Map<String, Long> saveBatchAtSite(Map<String, byte[]> plains, LostAnswer lostAnswer) {
        List<String> ids = new ArrayList<>(plains.keySet());
        requireShippable(ids.size());
        LocalWrites.Reading reading = sites.reading(typeName(), ids);
        long start = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            LocalWrites.Read read = readAtSite("batch save of " + ids.size() + " " + typeName() + " entities", reading);
            LocalWrites.Plan plan = planAtSite(read, plains);
            WriteBatch batch = batchOf(plan);
            // room for what the batch grows by where it is shipped, so that it lands in one batch there too
            long limit = gateway.limits().maxBatchBytes() - LocalWrites.SHIPPED_BATCH_BYTES
                    - (long) ids.size() * LocalWrites.SHIPPED_BYTES_PER_ENTITY;
            if (batch.encodedSize() > limit) {
                throw EntityTooLargeException.batch(typeName(), ids.size(), batch.encodedSize(), Math.max(0, limit));
            }
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("batch save of " + ids.size() + " " + typeName()
                        + " entities", batch).of(typeName(), ids.size()).visibleWhen(records.key(), ids.get(0), plan.sealed(ids.get(0)))
                        .landedIf(() -> batchLandedAt(ids, i -> plan.sealed(ids.get(i)), versionRecords(read, ids), lostAnswer)).countingRetries(this::countRetry));
            } catch (ConditionFailedException lost) {
                for (String id : ids) {
                    throwIfLocked(lost, id, ANY_VERSION, -1);
                }
                raced(attempt, start, ids.get(0), ANY_VERSION);
                continue;
            }
            countCompression(plan.plainBytes(), plan.compressedBytes());
            Map<String, Long> versions = new LinkedHashMap<>();
            for (String id : ids) {
                long v = plan.version(id);
                versions.put(id, v);
                records.remember(id, new Current(v, sequence), sequence);
                values.written(id, new EntityValues.Decoded(plains.get(id), v, sequence), sequence);
            }
            markEncrypted(false); // never throws: before the audit, which may (the write took effect either way)
            factory.audit("save", typeName(), ids, ids.stream().map(versions::get).toList(), null);
            return versions;
        }
    }

    /** {@link #clear} at a site: every entity of {@code chunk} still there leaves a tombstone; the ids deleted, with their versions. */
    private Cleared clearAtSite(List<String> chunk) {
        LocalWrites.Reading reading = sites.reading(typeName(), chunk);
        Map<String, byte[]> deletes = new LinkedHashMap<>();
        chunk.forEach(id -> deletes.put(id, null));
        LocalWrites.Read read = readAtSite("clear of " + typeName(), reading);
        Map<String, LocalWrites.Found> found = read.found();
        LocalWrites.Plan plan = planAtSite(read, deletes);
        if (plan.isEmpty()) {
            return new Cleared(Map.of(), -1);
        }
        List<String> stored = new ArrayList<>(plan.stored().keySet());
        long sequence = gateway.commit(RegistryGateway.Commit.replicated("clear of " + typeName(), batchOf(plan))
                .of(typeName(), stored.size()).landedIf(() -> records.allAbsentAt(stored)).countingRetries(this::countRetry));
        Map<String, Long> gone = new LinkedHashMap<>();
        plan.stored().keySet().forEach(id -> {
            values.deleted(id, sequence);
            gone.put(id, found.get(id).version());
        });
        return new Cleared(gone, sequence);
    }

    /**
     * How many entities one batch at a site may hold: its translation where it is shipped
     * ({@link LocalWrites#COMMANDS_PER_ENTITY} commands per entity and the ledger's
     * {@link LocalWrites#SHIPPED_BATCH_COMMANDS}) must fit one batch of a site with this one's limits.
     */
    private int shippableEntities() {
        return (gateway.limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS) / LocalWrites.COMMANDS_PER_ENTITY;
    }

    private void requireShippable(int entities) {
        if (entities > shippableEntities()) {
            throw new BatchTooLargeException(typeName(), entities, LocalWrites.COMMANDS_PER_ENTITY,
                    gateway.limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS);
        }
    }

    /** A plan of writes at this site; an entity whose sealed value is over {@code maxValueSizeKB} refuses it (as encodeAtMost does). */
    private LocalWrites.Plan planAtSite(LocalWrites.Read read, Map<String, byte[]> writes) {
        for (Map.Entry<String, byte[]> w : writes.entrySet()) {
            if (w.getValue() != null) {
                EnvelopeCodec.requireEncodable(typeName(), w.getKey(), w.getValue());
            }
        }
        LocalWrites.Plan plan;
        try {
            plan = sites.plan(read, writes);
        } catch (ClockSkewException e) {
            throw new SiteClockSkewException("cannot write " + typeName() + " " + writes.keySet() + " at site " + sites.site() + ": "
                    + e.getMessage(), e.site(), Duration.ofMillis(e.aheadMillis()), Duration.ofMillis(e.maxSkewMillis()), e);
        }
        for (String id : plan.stored().keySet()) {
            byte[] sealed = plan.sealed(id);
            if (sealed.length > maxValueBytes) {
                throw new EntityTooLargeException(typeName(), id, sealed.length, maxValueBytes);
            }
        }
        return plan;
    }

    private static WriteBatch batchOf(LocalWrites.Plan plan) {
        WriteBatch.Builder b = WriteBatch.builder();
        plan.commands().forEach(b::add);
        return b.build();
    }

    /**
     * A commit at a site failed its conditions: a shipped change or another writer came between the
     * read and the commit. Pauses a little more each time (a backend may show the winner to readers
     * only once it is durable), and gives up after {@link #MAX_RACE_ATTEMPTS} attempts and a second
     * (as {@link #awaitChange} waits for a winner to become readable).
     */
    private void raced(int attempt, long start, String id, long expectedVersion) {
        if (attempt >= MAX_RACE_ATTEMPTS && System.nanoTime() - start > 1_000_000_000L) {
            throw ConcurrencyConflictException.unknownActual(typeName(), id, expectedVersion,
                    "other writers won the race " + attempt + " times in a row");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(Math.min(10_000L << Math.min(attempt, 8), 2_000_000L));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        CompletableFuture<Long> pipelined = pipelinedSave(id, entity, ANY_VERSION);
        return pipelined != null ? pipelined : super.saveAsync(id, entity);
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        CompletableFuture<Long> pipelined = expectedVersion >= Versioned.ABSENT ? pipelinedSave(id, entity, expectedVersion) : null;
        return pipelined != null ? pipelined : super.saveAsync(id, entity, expectedVersion);
    }

    /**
     * A save whose version is known, encoded on the calling thread and committed with the
     * registry's commitAsync, so that no thread waits for the round trip: a thousand of them are a
     * thousand requests in flight. Null when it cannot go this way (no known version, arguments the
     * synchronous path refuses, a closed store): the caller then takes the synchronous path on the
     * executor, which also explains every refusal. A lost race continues there too.
     */
    private CompletableFuture<Long> pipelinedSave(String id, T entity, long expectedVersion) {
        long start = System.nanoTime();
        Pending p;
        try {
            if (isClosed() || entity == null || sites != null) {
                return null; // at a site a save reads the entity's stamp first: the synchronous path
            }
            EntityIds.requireValidId(id);
            StorageLayout.requireStorableId(id);
            Current cur = guess(id, expectedVersion);
            if (cur == null) {
                return null;
            }
            byte[] plain = json.write(entity);
            long next = cur.version() + 1;
            EnvelopeCodec.Encoded enc = encode(id, next, plain);
            WriteBatch.Builder b = WriteBatch.builder();
            records.requireUnchanged(b, id, cur);
            records.put(b, id, next, enc.envelope());
            p = new Pending(id, plain, next, enc, b.build(), cur);
        } catch (RuntimeException refused) {
            return null;
        }
        LostAnswer lostAnswer = new LostAnswer();
        return gateway.commitAsync(RegistryGateway.Commit.replicated("save of " + where(id), p.batch()).of(typeName(), 1)
                        .visibleWhen(records.key(), id, p.encoded().envelope()).landedIf(() -> landedAt(id, p.encoded().envelope(), expectedVersion, p.version(), p.planned(), lostAnswer))
                        .countingRetries(this::countRetry), asyncExecutor())
                .handle((sequence, failed) -> {
                    if (failed == null) {
                        countWrite(start);
                        saved(p, sequence);
                        return CompletableFuture.completedFuture(p.version());
                    }
                    Throwable cause = failed instanceof CompletionException && failed.getCause() != null ? failed.getCause() : failed;
                    if (cause instanceof ConditionFailedException) {
                        // another writer won: the synchronous path reads, decides and retries, as save() does (and counts the write)
                        records.forget(id);
                        // the entity as it was taken at the call, not what the caller's object holds by now
                        T taken = json.read(p.plain(), where(id));
                        CompletableFuture<Long> again = expectedVersion == ANY_VERSION ? super.saveAsync(id, taken)
                                : super.saveAsync(id, taken, expectedVersion);
                        // that path starts afresh: how it fails must still say that the lost attempt may have landed
                        return lostAnswer.mayHaveLanded() ? again.exceptionallyCompose(e -> CompletableFuture.failedFuture(
                                lostAnswer.failureOf("save of " + where(id), e))) : again;
                    }
                    countWrite(start);
                    if (cause instanceof RuntimeException r) {
                        unsettled(r, List.of(id));
                    }
                    if (isClosed() && RegistryGateway.refusedUnsent(cause)) {
                        // the factory's own pool shuts down as it closes: a refusal racing close() is a closed store, as for the other twins
                        return CompletableFuture.<Long>failedFuture(new StoreClosedException(describe()));
                    }
                    return CompletableFuture.<Long>failedFuture(cause);
                }).thenCompose(f -> f);
    }

    /** A save encoded and ready to commit, and the version record it was planned on. */
    private record Pending(String id, byte[] plain, long version, EnvelopeCodec.Encoded encoded, WriteBatch batch, Current planned) {
    }

    private void saved(Pending p, long sequence) {
        countCompression(p.encoded().plainBytes(), p.encoded().compressedBytes());
        records.remember(p.id(), new Current(p.version(), sequence), sequence);
        values.written(p.id(), new EntityValues.Decoded(p.plain(), p.version(), sequence), sequence);
        markEncrypted(true);
        factory.audit("save", typeName(), List.of(p.id()), List.of(p.version()), null);
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        StorageLayout.requireStorableId(id);
        try {
            return sites != null ? deleteAtSite(id, expectedVersion) : deleteRacing(id, expectedVersion);
        } catch (RuntimeException failed) {
            throw unsettled(failed, List.of(id));
        }
    }

    /** {@link #doDelete}, re-planned after each lost race. */
    private boolean deleteRacing(String id, long expectedVersion) {
        Current known = guess(id, expectedVersion);
        for (int attempt = 1; ; attempt++) {
            // "absent" is never taken from memory: another store may have created it since
            Current cur = known != null && known.version() != Versioned.ABSENT ? known : records.current(id);
            known = null;
            if (cur.version() == Versioned.ABSENT) {
                if (expectedVersion == ANY_VERSION) {
                    return false;
                }
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, Versioned.ABSENT);
            }
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, cur.version());
            }
            WriteBatch.Builder b = WriteBatch.builder();
            records.requireUnchanged(b, id, cur);
            records.remove(b, id);
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("delete of " + where(id), b.build()).of(typeName(), 1)
                        .landedIf(() -> deleteLandedAt(id, cur.version(), cur.revision()))
                        .countingRetries(this::countRetry));
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                awaitChange(id, cur);
                if (attempt >= MAX_RACE_ATTEMPTS) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), id, expectedVersion,
                            "other writers won the race " + attempt + " times in a row");
                }
                continue;
            }
            records.remember(id, Current.ABSENT, sequence);
            values.deleted(id, sequence); // a tombstone: a read answered before the delete cannot fill the entity back
            factory.audit("delete", typeName(), List.of(id), List.of(cur.version()), null);
            return true;
        }
    }

    @Override
    protected long doClear() {
        long removed = 0;
        int perBatch = sites != null ? Math.max(1, shippableEntities()) : Math.max(1, gateway.limits().maxBatchCommands() / COMMANDS_PER_DELETE);
        // the newest sequence this clear read or committed at: what the cache forgets up to (a sequence read
        // of its own could fail, and turn a clear that took effect into a failure)
        long seenUpTo = -1;
        try {
            for (int round = 1; ; round++) {
                EntityRecords.Index listed = records.index("listing of " + typeName() + " entities");
                seenUpTo = Math.max(seenUpTo, listed.sequence());
                Map<String, VersionedValue> versions = listed.versions();
                if (versions.isEmpty()) {
                    values.cleared(seenUpTo);
                    return removed;
                }
                List<String> ids = new ArrayList<>(versions.keySet());
                boolean raced = false;
                for (int from = 0; from < ids.size(); from += perBatch) {
                    List<String> chunk = ids.subList(from, Math.min(ids.size(), from + perBatch));
                    Map<String, Long> goneAfterALostAnswer = new LinkedHashMap<>();
                    try {
                        Cleared gone = sites != null ? clearAtSite(chunk) : clear(chunk, versions, goneAfterALostAnswer);
                        removed += gone.ids().size(); // counted before the audit, which may fail: they are gone either way
                        seenUpTo = Math.max(seenUpTo, gone.sequence());
                        auditRemoved(gone.ids());
                    } catch (EntityTooLargeException tooLarge) {
                        if (chunk.size() == 1) {
                            throw tooLarge;
                        }
                        // refused before it was sent: the registry's byte limit binds before its command count (long keys
                        // and ids; ZooKeeper's request size), so the rest goes in smaller batches
                        perBatch = Math.max(1, chunk.size() / 2);
                        from -= perBatch;
                    } catch (ConditionFailedException lost) {
                        // an attempt whose answer was lost may have removed these before the race: they count as this clear's
                        removed += goneAfterALostAnswer.size();
                        auditRemoved(goneAfterALostAnswer);
                        for (String id : chunk) {
                            throwIfLocked(lost, id, ANY_VERSION, -1);
                        }
                        raced = true; // someone wrote or deleted one of them first: list again
                    }
                }
                if (!raced) {
                    // what was listed is gone; listing again until empty would never end while another writer keeps
                    // creating entities (one created concurrently may survive a clear, as documented)
                    values.cleared(seenUpTo);
                    return removed;
                }
                if (round >= MAX_RACE_ATTEMPTS) {
                    throw new PersistenceException("clear of " + typeName() + " kept racing with concurrent deletes; gave up after "
                            + round + " rounds");
                }
            }
        } catch (PersistenceException e) {
            if (e.outcomeUnknown()) {
                values.unsettledAll();
            }
            if (removed == 0) {
                throw e;
            }
            // earlier batches did delete: an error that reads as "nothing happened" would be false (the cause keeps its type)
            String message = "clear of " + typeName() + " removed " + removed + " entities and then failed: " + e.getMessage();
            throw e instanceof StoreUnavailableException ? new StoreUnavailableException(message, e, true) : new PersistenceException(message, e, true);
        }
    }

    /** Audits entities a clear removed (ids with the versions they had). */
    private void auditRemoved(Map<String, Long> gone) {
        if (factory.audited() && !gone.isEmpty()) {
            List<String> deleted = new ArrayList<>(gone.keySet());
            factory.audit("delete", typeName(), deleted, deleted.stream().map(gone::get).toList(), null);
        }
    }

    /**
     * Deletes {@code chunk} (listed just before with {@code versions}) in one batch; the ids deleted,
     * with their versions. When an attempt's answer was lost and the retry lost its condition because
     * some of them are stored again, {@code goneAfterALostAnswer} gets the others, which that attempt
     * may have removed, and the {@link ConditionFailedException} is thrown.
     */
    private Cleared clear(List<String> chunk, Map<String, VersionedValue> versions, Map<String, Long> goneAfterALostAnswer) {
        WriteBatch.Builder b = WriteBatch.builder();
        for (String id : chunk) {
            b.requireValueExists(records.versionsKey(), id);
            records.requireUnlocked(b, id);
            records.remove(b, id);
        }
        // a lost answer whose batch landed: its retry finds the entities gone; they count (and are audited) as this clear's
        long sequence = gateway.commit(RegistryGateway.Commit.replicated("clear of " + typeName(), b.build())
                .of(typeName(), chunk.size()).landedIf(() -> {
                    OptionalLong allGone = records.allAbsentAt(chunk);
                    goneAfterALostAnswer.clear();
                    if (allGone.isEmpty()) {
                        // landed and some written again since, or not landed and some deleted by others; one still
                        // at its listed revision proves it did not land (it would have deleted that one)
                        List<EntityRecords.Current> now = records.currents(chunk);
                        for (int i = 0; i < chunk.size(); i++) {
                            VersionedValue listed = versions.get(chunk.get(i));
                            if (now.get(i).version() == Versioned.ABSENT) {
                                goneAfterALostAnswer.put(chunk.get(i), listed.value().asQword());
                            } else if (now.get(i).revision() == listed.revision()) {
                                goneAfterALostAnswer.clear();
                                break;
                            }
                        }
                    }
                    return allGone;
                }).countingRetries(this::countRetry));
        Map<String, Long> gone = new LinkedHashMap<>();
        chunk.forEach(id -> {
            values.deleted(id, sequence);
            gone.put(id, versions.get(id).value().asQword());
        });
        return new Cleared(gone, sequence);
    }

    /** The ids one batch of a clear deleted, with their versions, and the sequence it committed at (-1: it committed nothing). */
    private record Cleared(Map<String, Long> ids, long sequence) {
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        return saveBatchEncoded(encodeBatch(entities));
    }

    /** An async batch encodes its entities on the calling thread, as {@link #takeForSave}. */
    @Override
    protected java.util.function.Supplier<Map<String, Long>> takeForBatch(Map<String, T> entities) {
        EncodedBatch batch = encodeBatch(entities);
        return () -> saveBatchEncoded(batch);
    }

    /** A batch's ids in order, their JSON, and the same by id. */
    private record EncodedBatch(List<String> ids, byte[][] jsons, Map<String, byte[]> plains) {
    }

    private EncodedBatch encodeBatch(Map<String, T> entities) {
        entities.keySet().forEach(StorageLayout::requireStorableId);
        List<String> ids = new ArrayList<>(entities.keySet());
        List<T> all = new ArrayList<>(entities.values());
        byte[][] jsons;
        try {
            jsons = BatchEncoder.map(new byte[ids.size()][], i -> json.write(all.get(i)));
        } catch (RuntimeException refused) {
            throw firstRefusalInOrder(ids, all, refused);
        }
        Map<String, byte[]> plains = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            plains.put(ids.get(i), jsons[i]);
        }
        return new EncodedBatch(ids, jsons, plains);
    }

    private Map<String, Long> saveBatchEncoded(EncodedBatch batch) {
        List<String> ids = batch.ids();
        byte[][] jsons = batch.jsons();
        Map<String, byte[]> plains = batch.plains();
        LostAnswer lostAnswer = new LostAnswer();
        try {
            return sites != null ? saveBatchAtSite(plains, lostAnswer) : saveBatchRacing(ids, jsons, plains, lostAnswer);
        } catch (RuntimeException failed) {
            throw unsettled(lostAnswer.failure("batch save of " + ids.size() + " " + typeName() + " entities", failed), ids);
        }
    }

    /** {@link #doSaveBatch}, re-planned after each lost race; {@code lostAnswer} remembers an earlier attempt that may have landed. */
    private Map<String, Long> saveBatchRacing(List<String> ids, byte[][] jsons, Map<String, byte[]> plains, LostAnswer lostAnswer) {
        RegistryLimits limits = gateway.limits();
        if ((long) COMMANDS_PER_SAVE * ids.size() > limits.maxBatchCommands()) {
            throw new BatchTooLargeException(typeName(), ids.size(), COMMANDS_PER_SAVE, limits.maxBatchCommands());
        }
        List<Current> known = new ArrayList<>(ids.size());
        for (String id : ids) {
            Current g = guess(id, ANY_VERSION);
            if (g == null) {
                known = null;
                break;
            }
            known.add(g);
        }
        for (int attempt = 1; ; attempt++) {
            List<Current> read = known != null ? known : records.currents(ids);
            known = null;
            WriteBatch.Builder b = WriteBatch.builder();
            Map<String, Long> versions = new LinkedHashMap<>();
            EnvelopeCodec.Encoded[] encoded = BatchEncoder.map(new EnvelopeCodec.Encoded[ids.size()],
                    i -> encode(ids.get(i), read.get(i).version() + 1, jsons[i]));
            long before = 0;
            long after = 0;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                Current cur = read.get(i);
                long next = cur.version() + 1;
                EnvelopeCodec.Encoded enc = encoded[i];
                before += enc.plainBytes();
                after += enc.compressedBytes();
                records.requireUnchanged(b, id, cur);
                records.put(b, id, next, enc.envelope());
                versions.put(id, next);
            }
            WriteBatch batch = b.build();
            if (batch.encodedSize() > limits.maxBatchBytes()) {
                throw EntityTooLargeException.batch(typeName(), ids.size(), batch.encodedSize(), limits.maxBatchBytes());
            }
            long sequence;
            try {
                sequence = gateway.commit(RegistryGateway.Commit.replicated("batch save of " + ids.size() + " " + typeName()
                        + " entities", batch).of(typeName(), ids.size()).visibleWhen(records.key(), ids.get(0), encoded[0].envelope())
                        .landedIf(() -> batchLandedAt(ids, i -> encoded[i].envelope(), read, lostAnswer)).countingRetries(this::countRetry));
            } catch (ConditionFailedException lost) {
                String raced = ids.get(lost.failedCommandIndex() / COMMANDS_PER_SAVE);
                throwIfLocked(lost, raced, ANY_VERSION, -1);
                if (attempt >= MAX_RACE_ATTEMPTS) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), raced, ANY_VERSION,
                            "other writers won the race " + attempt + " times in a row");
                }
                int index = ids.indexOf(raced);
                awaitChange(raced, read.get(index));
                continue;
            }
            countCompression(before, after);
            for (String id : ids) {
                records.remember(id, new Current(versions.get(id), sequence), sequence);
                values.written(id, new EntityValues.Decoded(plains.get(id), versions.get(id), sequence), sequence);
            }
            markEncrypted(false); // never throws: before the audit, which may (the write took effect either way)
            factory.audit("save", typeName(), ids, ids.stream().map(versions::get).toList(), null);
            return versions;
        }
    }

    /**
     * The version record of {@code id} known without a read (the local cache, else what these
     * records last read or committed), if it agrees with the caller's expected version; null
     * otherwise, so that a conflict is only ever reported from a fresh read. Writes condition on
     * its revision, so a stale guess fails the commit and the writer reads again.
     */
    private Current guess(String id, long expectedVersion) {
        Current g = values.known(id);
        if (g == null) {
            g = records.remembered(id);
        }
        return g != null && (expectedVersion == ANY_VERSION || g.version() == expectedVersion) ? g : null;
    }

    /** A write that failed on the lock condition is a conflict with the prepared transaction holding the entity. */
    private void throwIfLocked(ConditionFailedException lost, String id, long expectedVersion, long currentVersion) {
        Optional<ConcurrencyConflictException> locked = records.lockConflict(lost, id, expectedVersion, currentVersion);
        if (locked.isPresent()) {
            throw locked.get();
        }
    }

    /**
     * The exception saving the batch's entities one after the other would meet first, given that one
     * of them cannot be written as JSON: an entity before it may be too large once encoded, which the
     * batch learns only after every JSON is written. The version does not change an envelope's size.
     */
    private RuntimeException firstRefusalInOrder(List<String> ids, List<T> all, RuntimeException refused) {
        for (int i = 0; i < ids.size(); i++) {
            byte[] plain;
            try {
                plain = json.write(all.get(i));
            } catch (RuntimeException e) {
                return e;
            }
            try {
                encode(ids.get(i), 1, plain);
            } catch (EntityTooLargeException tooLarge) {
                return tooLarge;
            }
        }
        return refused;
    }

    private EnvelopeCodec.Encoded encode(String id, long version, byte[] plain) {
        return envelopes.encodeAtMost(maxValueBytes, typeName(), id, version, plain);
    }


    private String where(String id) {
        return records.where(id);
    }

    /**
     * After this store committed an encrypted value: marks the type encrypted, once per store (a factory without keys
     * may then no longer open it for writing). {@code offThread}: the caller is a completion, which must not wait on
     * the registry, so the mark goes to the factory's maintenance thread.
     */
    private void markEncrypted(boolean offThread) {
        if (!envelopes.encrypts() || !encryptedMarked.compareAndSet(false, true)) {
            return;
        }
        if (!offThread) {
            if (!TypeDescriptor.markEncrypted(factory, typeName())) {
                encryptedMarked.set(false); // logged: the next encrypted save tries again
            }
            return;
        }
        try {
            factory.maintenance().execute(() -> {
                if (!TypeDescriptor.markEncrypted(factory, typeName())) {
                    encryptedMarked.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            encryptedMarked.set(false); // the next save of a store of the type marks it
        }
    }

    // ---- ClusterPersistenceStore ------------------------------------------------------------

    @Override
    public Registration addListener(StoreEventListener listener) {
        ensureOpen();
        return factory.events().add(this, listener);
    }

    @Override
    public long reencrypt() {
        ensureOpen();
        return keyRotation.rewrite(describe(), false);
    }

    @Override
    public long encryptValuesInClear() {
        ensureOpen();
        return keyRotation.rewrite(describe(), true);
    }

    @Override
    public Map<String, Long> keyUsage() {
        ensureOpen();
        return keyRotation.keyUsage();
    }

    @Override
    public PreferredReads<T> preferredReads() {
        ensureOpen();
        return new PreferredSiteReads<>(this, factory.config().localSite().orElse(null), factory.preferredSite(), materialiser);
    }

    /** The entity class this store holds. */
    Class<T> entityType() {
        return type;
    }

    @Override
    public List<ConflictRecord> conflictRecords() {
        ensureOpen();
        SiteLinks links = factory.siteLinks();
        if (links == null) {
            throw new IllegalStateException("store " + typeName() + " is not configured with sites: conflict records are kept by the sites"
                    + " of a multi-site store (sites.<site>, crossSiteConflicts = ConflictRecord)");
        }
        RegistryPath key = SiteReplication.conflictsKey(factory.layout()).child(typeName());
        return links.conflictRecords(typeName(), gateway.values("the conflict records of " + typeName(), key).orElse(Map.of()));
    }

    /** Throws {@link dev.reliablestore.api.StoreClosedException} once this store or its factory is closed. */
    void requireOpen() {
        ensureOpen();
    }

    @Override
    public boolean mergesStaleSaves() {
        return resolution == ConflictResolution.MERGE;
    }

    /** What the factory's codec reads back from what it writes of {@code entity}: the copy a transaction buffers. */
    T copyOf(T entity) {
        return json.copy(entity, typeName() + " entity");
    }

    @Override
    public ValueCodec<T> codec() {
        return new ValueCodec<>() {
            @Override
            public byte[] encode(String id, long version, T entity) {
                byte[] plain = json.write(entity);
                EnvelopeCodec.requireEncodable(typeName(), id, plain); // a typed refusal, as a plain save gives, not the codec's own
                return envelopes.encode(typeName(), id, version, plain).envelope();
            }

            @Override
            public T decode(String id, long version, byte[] stored) {
                return json.read(envelopes.decode(typeName(), id, version, stored), where(id));
            }
        };
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    @Override
    protected boolean isOwnerClosed() {
        return factory.isClosed();
    }

    @Override
    protected String describe() {
        return "cluster-registry store " + typeName();
    }

    @Override
    protected void doClose() {
        values.close();
        factory.events().removeOwner(this);
        factory.forget(this);
    }

    /** Entries in the local cache (tests, metrics). */
    long cachedEntries() {
        return values.cachedEntries();
    }

    @Override
    public String toString() {
        return describe() + " on " + gateway.uri() + " at " + records.key();
    }
}
