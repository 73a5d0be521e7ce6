package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreEvent;
import dev.reliablestore.api.StoreEventListener;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.spi.AbstractEntityStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Predicate;
import java.util.function.Supplier;

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

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RegistryEntityStore.class);

    /** How often an unconditional write re-reads and tries again when others keep winning the race. */
    static final int MAX_RACE_ATTEMPTS = 100;

    private final ClusterStoreFactory factory;
    private final Class<T> type;
    private final JsonCodec<T> json;
    private final EnvelopeCodec envelopes;
    private final RegistryPath key;
    private final RegistryPath versionsKey;
    private final RegistryPath locksKey;
    private final EntityCache cache;
    private final Watch watch;
    private final ConflictResolution resolution;
    private final ConflictResolver<T> resolver;
    private final int maxValueBytes;

    /** What the registry holds for an id: its envelope, version and revision (both values share the revision). */
    private record Stored(byte[] envelope, long version, long revision) {
    }

    /** The version record only. */
    private record Current(long version, long revision) {
        static final Current ABSENT = new Current(Versioned.ABSENT, 0);
    }

    /** Set by {@link #commit} when a write was retried after an outcome-unknown failure. */
    private static final class Attempt {
        boolean outcomeUnknown;
    }

    RegistryEntityStore(ClusterStoreFactory factory, String typeName, Class<T> type, ConflictResolver<T> resolver) {
        super(typeName, ClusterStoreFactory.ASYNC_EXECUTOR);
        this.factory = factory;
        this.type = type;
        this.json = new JsonCodec<>(type);
        this.envelopes = factory.envelopeCodec();
        this.key = factory.layout().type(typeName);
        this.versionsKey = factory.layout().versions(typeName);
        this.locksKey = factory.transactions().locksOf(typeName);
        this.resolution = factory.config().conflictResolution();
        this.resolver = resolver;
        this.maxValueBytes = factory.maxValueBytes();
        factory.dictionaries().open(typeName);
        writeMetadataIfAbsent();
        if (factory.config().enableLocalCache()) {
            this.cache = new EntityCache(factory.config().cacheSize(), factory.config().cacheTTL(), key, versionsKey);
            this.watch = factory.registry().watch(key, new ChangeListener() {
                @Override
                public void onBatch(ChangeBatch batch) {
                    cache.onBatch(batch);
                }

                @Override
                public void onResync(String reason) {
                    cache.resync(factory.registry().currentSequence());
                }
            });
            cache.start(watch.startSequence());
            if (factory.config().preloadCache()) {
                doGetAll(null);
            }
        } else {
            this.cache = null;
            this.watch = null;
        }
    }

    // ---- reads -------------------------------------------------------------------------------

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        Layout.requireStorableId(id);
        if (cache != null) {
            EntityCache.Entry e = cache.get(id);
            if (e != null) {
                countCacheHit();
                return Optional.of(new Versioned<>(id, json.read(e.json(), where(id)), e.version()));
            }
            countCacheMiss();
        }
        ReadBatchResult r = read("read of " + where(id), List.of(id), () -> factory.registry().read(ReadBatch.of(
                new ReadBatch.ValueRead(key, id), new ReadBatch.ValueRead(versionsKey, id))));
        Stored s = stored(id, r.value(0), r.value(1));
        return s == null ? Optional.empty() : Optional.of(materialise(id, s, r.sequence()));
    }

    @Override
    protected Map<String, Versioned<T>> doGetMany(List<String> ids) {
        ids.forEach(Layout::requireStorableId);
        Map<String, Versioned<T>> found = new LinkedHashMap<>();
        List<String> misses = new ArrayList<>();
        for (String id : ids) {
            EntityCache.Entry e = cache == null ? null : cache.get(id);
            if (e != null) {
                countCacheHit();
                found.put(id, new Versioned<>(id, json.read(e.json(), where(id)), e.version()));
            } else {
                if (cache != null) {
                    countCacheMiss();
                }
                misses.add(id);
            }
        }
        if (!misses.isEmpty()) {
            List<ReadBatch.Read> reads = new ArrayList<>();
            for (String id : misses) {
                reads.add(new ReadBatch.ValueRead(key, id));
                reads.add(new ReadBatch.ValueRead(versionsKey, id));
            }
            ReadBatchResult r = read("read of " + misses.size() + " " + typeName() + " entities", misses,
                    () -> factory.registry().read(ReadBatch.of(reads)));
            for (int i = 0; i < misses.size(); i++) {
                String id = misses.get(i);
                Stored s = stored(id, r.value(2 * i), r.value(2 * i + 1));
                if (s != null) {
                    found.put(id, materialise(id, s, r.sequence()));
                }
            }
        }
        Map<String, Versioned<T>> ordered = new LinkedHashMap<>();
        for (String id : ids) {
            Versioned<T> v = found.get(id);
            if (v != null) {
                ordered.put(id, v);
            }
        }
        return ordered;
    }

    @Override
    protected boolean doExists(String id) {
        Layout.requireStorableId(id);
        if (cache != null && cache.get(id) != null) {
            countCacheHit();
            return true;
        }
        return read("existence check of " + where(id), List.of(id), () -> factory.registry().getValue(versionsKey, id)).isPresent();
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        ReadBatchResult r = read("read of all " + typeName() + " entities", null, () -> factory.registry().read(ReadBatch.of(
                new ReadBatch.ValuesRead(key), new ReadBatch.ValuesRead(versionsKey))));
        Map<String, VersionedValue> envelopesById = r.values(0).orElse(Map.of());
        Map<String, VersionedValue> versions = new TreeMap<>(r.values(1).orElse(Map.of()));
        List<Versioned<T>> out = new ArrayList<>(versions.size());
        for (Map.Entry<String, VersionedValue> v : versions.entrySet()) {
            String id = v.getKey();
            Stored s = stored(id, Optional.ofNullable(envelopesById.get(id)), Optional.of(v.getValue()));
            Versioned<T> entity = materialise(id, s, r.sequence());
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
        return read("count of " + typeName() + " entities", null, () -> factory.registry().read(ReadBatch.of(
                new ReadBatch.ValuesRead(versionsKey)))).values(0).map(Map::size).orElse(0);
    }

    /** Checks the two values of an id belong together; null when the id holds no entity. */
    private Stored stored(String id, Optional<VersionedValue> envelope, Optional<VersionedValue> version) {
        if (envelope.isEmpty() && version.isEmpty()) {
            return null;
        }
        if (envelope.isEmpty() || version.isEmpty()) {
            throw new DataIntegrityException(where(id) + ": the " + (envelope.isEmpty() ? "envelope" : "version record")
                    + " is missing while the other exists (they are only ever written together)");
        }
        VersionedValue e = envelope.get();
        VersionedValue v = version.get();
        if (e.value().type() != ValueType.BINARY || v.value().type() != ValueType.QWORD) {
            throw new DataIntegrityException(where(id) + ": stored values have types " + e.value().type() + "/" + v.value().type()
                    + ", expected BINARY/QWORD");
        }
        if (e.revision() != v.revision()) {
            throw new DataIntegrityException(where(id) + ": the envelope (revision " + e.revision() + ") and the version record "
                    + "(revision " + v.revision() + ") were not written together; the value was replaced outside the store");
        }
        return new Stored(e.value().unsafeData(), v.value().asQword(), v.revision());
    }

    private Versioned<T> materialise(String id, Stored s, long readAt) {
        byte[] plain = envelopes.decode(typeName(), id, s.version(), s.envelope());
        Versioned<T> v = new Versioned<>(id, json.read(plain, where(id)), s.version());
        if (cache != null) {
            cache.fill(id, new EntityCache.Entry(plain, s.version(), s.revision()), readAt);
        }
        return v;
    }

    private Current current(String id) {
        return read("version read of " + where(id), List.of(id), () -> factory.registry().getValue(versionsKey, id))
                .map(v -> {
                    if (v.value().type() != ValueType.QWORD) {
                        throw new DataIntegrityException(where(id) + ": version record is " + v.value().type() + ", not QWORD");
                    }
                    return new Current(v.value().asQword(), v.revision());
                })
                .orElse(Current.ABSENT);
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
            seen = current(id);
        }
        return seen;
    }

    private Stored readStored(String id) {
        ReadBatchResult r = read("read of " + where(id), List.of(id), () -> factory.registry().read(ReadBatch.of(
                new ReadBatch.ValueRead(key, id), new ReadBatch.ValueRead(versionsKey, id))));
        return stored(id, r.value(0), r.value(1));
    }

    // ---- writes ------------------------------------------------------------------------------

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        Layout.requireStorableId(id);
        byte[] plain = json.write(entity);
        long conflictWith = -1;
        int merges = 0;
        Current known = null;
        if (cache != null) {
            EntityCache.Entry hint = cache.get(id);
            if (hint != null) {
                known = new Current(hint.version(), hint.revision());
            }
        }
        for (int attempt = 1; ; attempt++) {
            Current cur = known != null ? known : current(id);
            known = null;
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                switch (resolution) {
                    case OPTIMISTIC -> throw new ConcurrencyConflictException(typeName(), id, expectedVersion, cur.version());
                    case LAST_WRITE_WINS -> conflictWith = cur.version();
                    case MERGE -> {
                        if (cur.version() == Versioned.ABSENT) {
                            throw new ConcurrencyConflictException(typeName(), id, expectedVersion, Versioned.ABSENT,
                                    "the entity was deleted; there is nothing to merge with");
                        }
                        if (++merges > factory.config().maxRetries() + 1) {
                            throw new ConcurrencyConflictException(typeName(), id, expectedVersion, cur.version(),
                                    "the stored value kept changing; gave up after " + (merges - 1) + " merges (maxRetries="
                                            + factory.config().maxRetries() + ")");
                        }
                        Stored stored = readStored(id);
                        if (stored == null || stored.revision() != cur.revision()) {
                            continue;
                        }
                        T storedValue = json.read(envelopes.decode(typeName(), id, stored.version(), stored.envelope()), where(id));
                        T merged = resolver.resolve(id, new Versioned<>(id, storedValue, stored.version()), entity, expectedVersion);
                        if (merged == null) {
                            throw new PersistenceException("the ConflictResolver of " + type.getName() + " returned null for " + where(id));
                        }
                        plain = json.write(merged);
                        conflictWith = cur.version();
                    }
                    default -> throw new IllegalStateException(String.valueOf(resolution));
                }
            }
            long next = cur.version() + 1;
            EnvelopeCodec.Encoded enc = encode(id, next, plain);
            WriteBatch.Builder b = WriteBatch.builder();
            condition(b, id, cur);
            b.setValue(key, id, RegistryValue.binary(enc.envelope())).setValue(versionsKey, id, RegistryValue.qword(next));
            Attempt a = new Attempt();
            long sequence;
            try {
                sequence = commit(b.build(), "save of " + where(id), a, 1, id, enc.envelope());
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                Stored now = readStored(id);
                if (a.outcomeUnknown && now != null && java.util.Arrays.equals(now.envelope(), enc.envelope())) {
                    sequence = now.revision(); // our first attempt did land
                } else {
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
            }
            countCompression(enc.plainBytes(), enc.compressedBytes());
            if (cache != null) {
                cache.fill(id, new EntityCache.Entry(plain, next, sequence), sequence);
            }
            if (conflictWith >= 0) {
                countConflict();
                factory.events().publish(this, new StoreEvent.ConflictResolved(Instant.now(), typeName(), id,
                        resolution == ConflictResolution.MERGE ? "Merge" : "LastWriteWins", conflictWith, next));
            }
            factory.audit("save", typeName(), List.of(id), List.of(next), null);
            return next;
        }
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        Layout.requireStorableId(id);
        for (int attempt = 1; ; attempt++) {
            Current cur = current(id);
            if (cur.version() == Versioned.ABSENT) {
                if (expectedVersion == ANY_VERSION) {
                    return false;
                }
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, Versioned.ABSENT);
            }
            if (expectedVersion != ANY_VERSION && cur.version() != expectedVersion) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, cur.version());
            }
            WriteBatch batch = WriteBatch.builder().requireRevision(versionsKey, id, cur.revision())
                    .requireValueAbsent(locksKey, id)
                    .deleteValue(key, id).deleteValue(versionsKey, id).build();
            Attempt a = new Attempt();
            try {
                commit(batch, "delete of " + where(id), a, 1);
            } catch (ConditionFailedException lost) {
                throwIfLocked(lost, id, expectedVersion, cur.version());
                if (a.outcomeUnknown && current(id).version() == Versioned.ABSENT) {
                    invalidate(id);
                    factory.audit("delete", typeName(), List.of(id), List.of(cur.version()), null);
                    return true;
                }
                awaitChange(id, cur);
                if (attempt >= MAX_RACE_ATTEMPTS) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), id, expectedVersion,
                            "other writers won the race " + attempt + " times in a row");
                }
                continue;
            }
            invalidate(id);
            factory.audit("delete", typeName(), List.of(id), List.of(cur.version()), null);
            return true;
        }
    }

    @Override
    protected long doClear() {
        long removed = 0;
        RegistryLimits limits = factory.registry().limits();
        int perBatch = Math.max(1, limits.maxBatchCommands() / COMMANDS_PER_DELETE);
        for (int round = 1; ; round++) {
            Map<String, VersionedValue> versions = read("listing of " + typeName() + " entities", null, () -> factory.registry()
                    .read(ReadBatch.of(new ReadBatch.ValuesRead(versionsKey)))).values(0).orElse(Map.of());
            if (versions.isEmpty()) {
                if (cache != null) {
                    cache.resync(factory.registry().currentSequence());
                }
                return removed;
            }
            List<String> ids = new ArrayList<>(versions.keySet());
            boolean raced = false;
            for (int from = 0; from < ids.size(); from += perBatch) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + perBatch));
                WriteBatch.Builder b = WriteBatch.builder();
                for (String id : chunk) {
                    b.requireValueExists(versionsKey, id).requireValueAbsent(locksKey, id)
                            .deleteValue(key, id).deleteValue(versionsKey, id);
                }
                try {
                    commit(b.build(), "clear of " + typeName(), new Attempt(), chunk.size());
                    removed += chunk.size();
                    chunk.forEach(this::invalidate);
                    if (factory.audited()) {
                        factory.audit("delete", typeName(), chunk, chunk.stream().map(id -> versions.get(id).value().asQword()).toList(), null);
                    }
                } catch (ConditionFailedException lost) {
                    throwIfLocked(lost, chunk.get(lost.failedCommandIndex() / COMMANDS_PER_DELETE), ANY_VERSION, -1);
                    raced = true; // someone deleted one of them first: list again
                }
            }
            if (raced && round >= MAX_RACE_ATTEMPTS) {
                throw new PersistenceException("clear of " + typeName() + " kept racing with concurrent deletes; removed "
                        + removed + " entities before giving up");
            }
        }
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        entities.keySet().forEach(Layout::requireStorableId);
        Map<String, byte[]> plains = new LinkedHashMap<>();
        entities.forEach((id, e) -> plains.put(id, json.write(e)));
        RegistryLimits limits = factory.registry().limits();
        if ((long) COMMANDS_PER_SAVE * entities.size() > limits.maxBatchCommands()) {
            throw new BatchTooLargeException(typeName(), entities.size(), COMMANDS_PER_SAVE, limits.maxBatchCommands());
        }
        List<String> ids = new ArrayList<>(entities.keySet());
        for (int attempt = 1; ; attempt++) {
            List<ReadBatch.Read> reads = new ArrayList<>();
            for (String id : ids) {
                reads.add(new ReadBatch.ValueRead(versionsKey, id));
            }
            ReadBatchResult r = read("version read of a " + typeName() + " batch", ids, () -> factory.registry().read(ReadBatch.of(reads)));
            WriteBatch.Builder b = WriteBatch.builder();
            Map<String, Long> versions = new LinkedHashMap<>();
            byte[][] firstEnvelope = new byte[1][];
            long before = 0;
            long after = 0;
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                Current cur = r.value(i).map(v -> new Current(v.value().asQword(), v.revision())).orElse(Current.ABSENT);
                long next = cur.version() + 1;
                EnvelopeCodec.Encoded enc = encode(id, next, plains.get(id));
                if (i == 0) {
                    firstEnvelope[0] = enc.envelope();
                }
                before += enc.plainBytes();
                after += enc.compressedBytes();
                condition(b, id, cur);
                b.setValue(key, id, RegistryValue.binary(enc.envelope())).setValue(versionsKey, id, RegistryValue.qword(next));
                versions.put(id, next);
            }
            WriteBatch batch = b.build();
            if (batch.encodedSize() > limits.maxBatchBytes()) {
                throw EntityTooLargeException.batch(typeName(), ids.size(), batch.encodedSize(), limits.maxBatchBytes());
            }
            long sequence;
            try {
                sequence = commit(batch, "batch save of " + ids.size() + " " + typeName() + " entities", new Attempt(), ids.size(),
                        ids.get(0), firstEnvelope[0]);
            } catch (ConditionFailedException lost) {
                String raced = ids.get(lost.failedCommandIndex() / COMMANDS_PER_SAVE);
                throwIfLocked(lost, raced, ANY_VERSION, -1);
                if (attempt >= MAX_RACE_ATTEMPTS) {
                    throw ConcurrencyConflictException.unknownActual(typeName(), raced, ANY_VERSION,
                            "other writers won the race " + attempt + " times in a row");
                }
                int index = ids.indexOf(raced);
                awaitChange(raced, r.value(index).map(v -> new Current(v.value().asQword(), v.revision())).orElse(Current.ABSENT));
                continue;
            }
            countCompression(before, after);
            if (cache != null) {
                for (String id : ids) {
                    cache.fill(id, new EntityCache.Entry(plains.get(id), versions.get(id), sequence), sequence);
                }
            }
            factory.audit("save", typeName(), ids, ids.stream().map(versions::get).toList(), null);
            return versions;
        }
    }

    private void condition(WriteBatch.Builder b, String id, Current cur) {
        if (cur.version() == Versioned.ABSENT) {
            b.requireValueAbsent(versionsKey, id);
        } else {
            b.requireRevision(versionsKey, id, cur.revision());
        }
        b.requireValueAbsent(locksKey, id); // not held by a prepared transaction (see RegistryTransactions)
    }

    /** A write that failed on the lock condition is a conflict with the prepared transaction holding the entity. */
    private void throwIfLocked(ConditionFailedException lost, String id, long expectedVersion, long currentVersion) {
        java.util.Optional<ConcurrencyConflictException> locked =
                factory.transactions().lockConflict(lost, typeName(), id, expectedVersion, currentVersion);
        if (locked.isPresent()) {
            throw locked.get();
        }
    }

    private EnvelopeCodec.Encoded encode(String id, long version, byte[] plain) {
        EnvelopeCodec.Encoded enc;
        try {
            enc = envelopes.encode(typeName(), id, version, plain);
        } catch (IllegalArgumentException tooBig) {
            throw new EntityTooLargeException(typeName(), id, plain.length, maxValueBytes);
        }
        if (enc.envelope().length > maxValueBytes) {
            throw new EntityTooLargeException(typeName(), id, enc.envelope().length, maxValueBytes);
        }
        return enc;
    }

    private void invalidate(String id) {
        if (cache != null) {
            cache.invalidate(id);
        }
    }

    /** Commits in the configured replication mode, with retries; returns the commit sequence. */
    private long commit(WriteBatch batch, String what, Attempt attempt, int entries) {
        return commit(batch, what, attempt, entries, null, null);
    }

    /**
     * Commits in the configured replication mode, with retries; returns the commit sequence.
     * ASYNC: when the registry has not decided by the time commitAsync returns, and the caller names a
     * value it set ({@code probeId}/{@code probeEnvelope}), the call returns as soon as a read shows
     * exactly that value (the batch committed; durability follows within the backend's flush
     * interval) instead of waiting for durability.
     */
    private long commit(WriteBatch batch, String what, Attempt attempt, int entries, String probeId, byte[] probeEnvelope) {
        try {
            return factory.retrier().call(what, () -> {
                factory.checkMinimumNodes();
                try {
                    if (factory.config().replicationMode() == ReplicationMode.SYNCHRONOUS) {
                        return factory.registry().commit(batch).sequence();
                    }
                    CompletableFuture<CommitResult> future = factory.registry().commitAsync(batch);
                    if (!future.isDone() && probeId != null) {
                        Optional<VersionedValue> visible = factory.registry().getValue(key, probeId);
                        if (visible.isPresent() && java.util.Arrays.equals(visible.get().value().unsafeData(), probeEnvelope)) {
                            future.whenComplete((ok, failed) -> {
                                if (failed != null) {
                                    LOG.error("ASYNC {} was applied but did not become durable: {}", what, failed.toString());
                                }
                            });
                            return visible.get().revision();
                        }
                    }
                    return future.join().sequence();
                } catch (CompletionException wrapped) {
                    if (wrapped.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw wrapped;
                } catch (dev.reliablestore.registry.RegistryUnavailableException u) {
                    if (u.outcomeUnknown()) {
                        attempt.outcomeUnknown = true;
                    }
                    throw u;
                }
            }, this::countRetry);
        } catch (ConditionFailedException c) {
            throw c;
        } catch (RegistryLimitException limit) {
            throw EntityTooLargeException.batch(typeName(), entries, limit.size(), limit.limit());
        } catch (RegistryException other) {
            throw translate(what, other);
        }
    }

    private <R> R registry(String what, Supplier<R> call) {
        try {
            return factory.retrier().call(what, call, this::countRetry);
        } catch (ConditionFailedException c) {
            throw c;
        } catch (RegistryException e) {
            throw translate(what, e);
        }
    }

    /**
     * A registry read of this type's values. A value the registry cannot decode (written by
     * something else than the registry) is the entity's problem: {@link DataIntegrityException}
     * naming type and id. {@code ids} are the entities read (null: the whole type); when there
     * are several, they are read one at a time to find whose value it is. Damage of the registry
     * itself (a read of the layout version fails the same way, e.g. the backend's own sequence is
     * unreadable) is rethrown for the Retrier to report as such.
     */
    private <R> R read(String what, List<String> ids, Supplier<R> call) {
        return registry(what, () -> {
            try {
                return call.get();
            } catch (RegistryCorruptedException e) {
                throw undecodable(e, ids);
            }
        });
    }

    private RuntimeException undecodable(RegistryCorruptedException e, List<String> ids) {
        try {
            factory.registry().read(ReadBatch.of(new ReadBatch.ValueRead(factory.layout().configuration(), Layout.VERSION_VALUE)));
        } catch (RegistryCorruptedException registryDamaged) {
            return e;
        }
        if (ids != null && ids.size() == 1) {
            return undecodable(ids.get(0), e);
        }
        for (String id : ids != null ? ids : storedIds()) {
            try {
                factory.registry().read(ReadBatch.of(new ReadBatch.ValueRead(key, id), new ReadBatch.ValueRead(versionsKey, id)));
            } catch (RegistryCorruptedException one) {
                return undecodable(id, one);
            }
        }
        return new DataIntegrityException("a value stored under " + key + " cannot be decoded by the registry, and it is no "
                + typeName() + " entity's envelope or version record: " + e.getMessage(), e);
    }

    private DataIntegrityException undecodable(String id, RegistryCorruptedException e) {
        return new DataIntegrityException(where(id) + ": a value stored for it cannot be decoded by the registry: " + e.getMessage(), e);
    }

    /** The ids this type's index or its envelopes name, from whichever of the two listings the registry can decode. */
    private List<String> storedIds() {
        java.util.TreeSet<String> ids = new java.util.TreeSet<>();
        for (RegistryPath listed : List.of(versionsKey, key)) {
            try {
                factory.registry().read(ReadBatch.of(new ReadBatch.ValuesRead(listed))).values(0).ifPresent(v -> ids.addAll(v.keySet()));
            } catch (RegistryCorruptedException undecodable) {
                // the other listing names them
            }
        }
        ids.remove(Layout.METADATA);
        return new ArrayList<>(ids);
    }

    private static PersistenceException translate(String what, RegistryException e) {
        if (e instanceof RegistryArgumentException) {
            return new PersistenceException(what + " was refused by the registry: " + e.getMessage(), e);
        }
        return new PersistenceException(what + " failed: " + e.getMessage(), e);
    }

    private void writeMetadataIfAbsent() {
        if (factory.registry().getValue(key, Layout.METADATA).isPresent()) {
            return;
        }
        Map<String, Object> descriptor = new LinkedHashMap<>();
        descriptor.put("layout", Layout.VERSION);
        descriptor.put("type", typeName());
        descriptor.put("entityClass", type.getName());
        descriptor.put("created", Instant.now().toString());
        descriptor.put("createdBy", factory.nodeName());
        descriptor.put("versions", Layout.VERSIONS);
        byte[] bytes;
        try {
            bytes = JsonCodec.MAPPER.writeValueAsBytes(descriptor);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        try {
            registry("creation of " + typeName() + " metadata", () -> factory.registry().commit(WriteBatch.builder()
                    .requireValueAbsent(key, Layout.METADATA).setValue(key, Layout.METADATA, RegistryValue.binary(bytes)).build()));
        } catch (ConditionFailedException raced) {
            // another store created it first
        }
    }

    private String where(String id) {
        return typeName() + "/" + id;
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
        if (!envelopes.encrypts()) {
            throw new IllegalStateException("encryption is not enabled for " + describe() + "; there is nothing to re-encrypt with");
        }
        String active = envelopes.keys().activeKeyId();
        ReadBatchResult r = read("read of all " + typeName() + " entities", null, () -> factory.registry().read(ReadBatch.of(
                new ReadBatch.ValuesRead(key), new ReadBatch.ValuesRead(versionsKey))));
        Map<String, VersionedValue> all = r.values(0).orElse(Map.of());
        Map<String, VersionedValue> versions = new TreeMap<>(r.values(1).orElse(Map.of()));
        long rewritten = 0;
        for (Map.Entry<String, VersionedValue> v : versions.entrySet()) {
            String id = v.getKey();
            Stored s = stored(id, Optional.ofNullable(all.get(id)), Optional.of(v.getValue()));
            EnvelopeCodec.Header h = EnvelopeCodec.header(s.envelope(), where(id));
            if (h.encrypted() && active.equals(h.keyId())) {
                continue;
            }
            byte[] plain = h.encrypted() ? envelopes.decode(typeName(), id, s.version(), s.envelope())
                    : new EnvelopeCodec(factory.layout().root().toString(), false, factory.dictionaries(), null)
                    .decode(typeName(), id, s.version(), s.envelope());
            EnvelopeCodec.Encoded enc = encode(id, s.version(), plain);
            WriteBatch batch = WriteBatch.builder().requireRevision(versionsKey, id, s.revision())
                    .setValue(key, id, RegistryValue.binary(enc.envelope()))
                    .setValue(versionsKey, id, RegistryValue.qword(s.version())).build();
            try {
                commit(batch, "re-encryption of " + where(id), new Attempt(), 1);
                invalidate(id);
                rewritten++;
                factory.audit("reencrypt", typeName(), List.of(id), List.of(s.version()), null);
            } catch (ConditionFailedException changed) {
                // rewritten by a writer meanwhile, which used the active key
            }
        }
        return rewritten;
    }

    @Override
    public Map<String, Long> keyUsage() {
        ensureOpen();
        Map<String, VersionedValue> all = read("read of all " + typeName() + " entities", null, () -> factory.registry().read(
                ReadBatch.of(new ReadBatch.ValuesRead(key)))).values(0).orElse(Map.of());
        Map<String, Long> usage = new TreeMap<>();
        for (Map.Entry<String, VersionedValue> e : all.entrySet()) {
            if (e.getKey().equals(Layout.METADATA)) {
                continue;
            }
            EnvelopeCodec.Header h = EnvelopeCodec.header(e.getValue().value().unsafeData(), where(e.getKey()));
            usage.merge(h.encrypted() ? h.keyId() : "", 1L, Long::sum);
        }
        return usage;
    }

    @Override
    public ValueCodec<T> codec() {
        return new ValueCodec<>() {
            @Override
            public byte[] encode(String id, long version, T entity) {
                return envelopes.encode(typeName(), id, version, json.write(entity)).envelope();
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
        if (watch != null) {
            watch.close();
        }
        factory.events().removeOwner(this);
        factory.forget(this);
    }

    /** Entries in the local cache (tests, metrics). */
    long cachedEntries() {
        return cache == null ? 0 : cache.size();
    }

    @Override
    public String toString() {
        return describe() + " on " + factory.registry().uri() + " at " + key;
    }
}
