package dev.reliablestore.tckproof;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reliablestore.codec.JacksonEntityCodec;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** The reference store (see {@link ReferenceStoreFactory}). */
final class ReferenceStore<T> extends AbstractEntityStore<T> {

    private static final ObjectMapper MAPPER = JacksonEntityCodec.defaults().mapper();
    /** Millisecond timestamps, decimals through double, empty beans stored as {}: the defects issue 16 found. */
    private static final ObjectMapper LOSSY = new ObjectMapper()
            .registerModule(new JavaTimeModule()).registerModule(new Jdk8Module()).registerModule(new ParameterNamesModule())
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule("decimals-as-doubles")
                    .addDeserializer(java.math.BigDecimal.class, new com.fasterxml.jackson.databind.JsonDeserializer<>() {
                        @Override
                        public java.math.BigDecimal deserialize(com.fasterxml.jackson.core.JsonParser p,
                                com.fasterxml.jackson.databind.DeserializationContext c) throws java.io.IOException {
                            return java.math.BigDecimal.valueOf(p.getDoubleValue());
                        }
                    }))
            .enable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(SerializationFeature.WRITE_DATE_TIMESTAMPS_AS_NANOSECONDS)
            .disable(DeserializationFeature.READ_DATE_TIMESTAMPS_AS_NANOSECONDS);

    private final ReferenceStoreFactory factory;
    private final Class<T> type;
    private final ReferenceStorage.TypeData data;
    private final ObjectMapper mapper;

    ReferenceStore(ReferenceStoreFactory factory, String typeName, Class<T> type, ReferenceStorage.TypeData data) {
        super(typeName, ForkJoinPool.commonPool());
        this.factory = factory;
        this.type = type;
        this.data = data;
        this.mapper = factory.broken(Breakage.LOSSY_CODEC) ? LOSSY : MAPPER;
        if (!factory.broken(Breakage.LOSSY_CODEC)) {
            JacksonEntityCodec.defaults().forType(type); // refuses at open a type that could not be read back
        }
    }

    private boolean broken(Breakage b) {
        return factory.broken(b);
    }

    private String key(String id) {
        String key = id;
        if (broken(Breakage.IDS_CASE_INSENSITIVE)) {
            key = key.toLowerCase(Locale.ROOT);
        }
        if (broken(Breakage.TRUNCATES_LONG_IDS) && key.length() > 128) {
            key = key.substring(0, 128);
        }
        return key;
    }

    private Object encode(String id, T entity) {
        try {
            if (mapper == MAPPER) {
                // what the codec could not read back is refused now, as every provider refuses it
                JacksonEntityCodec.defaults().forType(type).encode(entity);
            }
            byte[] bytes = mapper.writeValueAsBytes(entity);
            if (bytes.length > ReferenceStoreFactory.MAX_ENTITY_BYTES && !broken(Breakage.NO_SIZE_LIMIT)) {
                throw new EntityTooLargeException(typeName(), id, bytes.length, ReferenceStoreFactory.MAX_ENTITY_BYTES);
            }
            return broken(Breakage.NO_COPY) ? entity : bytes;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        } catch (dev.reliablestore.codec.CodecException e) {
            throw new dev.reliablestore.api.PersistenceException("entity " + typeName() + "/" + id + " cannot be stored: " + e.getMessage(), e);
        }
    }

    private Versioned<T> decode(ReferenceStorage.Entry entry) {
        if (!(entry.value() instanceof byte[] bytes)) {
            return new Versioned<>(entry.id(), type.cast(entry.value()), entry.version());
        }
        try {
            return new Versioned<>(entry.id(), mapper.readValue(bytes, type), entry.version());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long nextVersion(String key, ReferenceStorage.Entry current) {
        long base = current != null ? current.version()
                : broken(Breakage.VERSION_SURVIVES_DELETE) ? data.lastVersions.getOrDefault(key, 0L) : 0L;
        return base + (broken(Breakage.VERSION_STEP_TWO) ? 2 : 1);
    }

    private ConcurrencyConflictException conflict(String id, long expected, ReferenceStorage.Entry current) {
        long actual = current == null ? Versioned.ABSENT : current.version();
        return broken(Breakage.CONFLICT_WITHOUT_ACTUAL_VERSION)
                ? ConcurrencyConflictException.unknownActual(typeName(), id, expected, null)
                : new ConcurrencyConflictException(typeName(), id, expected, actual);
    }

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        data.lock.lock();
        try {
            return Optional.ofNullable(data.entries.get(key(id))).map(this::decode);
        } finally {
            data.lock.unlock();
        }
    }

    @Override
    protected boolean doExists(String id) {
        return broken(Breakage.EXISTS_ALWAYS_TRUE) || doGet(id).isPresent();
    }

    @Override
    protected Map<String, Versioned<T>> doGetMany(List<String> ids) {
        Map<String, Versioned<T>> found = broken(Breakage.SORTED_GET_MANY) ? new TreeMap<>() : new LinkedHashMap<>();
        for (String id : ids) {
            doGet(id).ifPresent(v -> found.put(id, v));
        }
        return found;
    }

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        return saveEncoded(id, encode(id, entity), expectedVersion);
    }

    @Override
    protected LongSupplier takeForSave(String id, T entity, long expectedVersion) {
        Object encoded = encode(id, entity); // on the caller's thread: a later change of its object is not saved
        return () -> saveEncoded(id, encoded, expectedVersion);
    }

    private long saveEncoded(String id, Object encoded, long expectedVersion) {
        String key = key(id);
        if (broken(Breakage.LOSES_UPDATES)) {
            ReferenceStorage.Entry current;
            data.lock.lock();
            try {
                current = data.entries.get(key);
            } finally {
                data.lock.unlock();
            }
            checkExpected(id, expectedVersion, current);
            LockSupport.parkNanos(20_000); // the window a read-check-write without a lock leaves open
            data.lock.lock();
            try {
                return put(key, id, encoded, current);
            } finally {
                data.lock.unlock();
            }
        }
        data.lock.lock();
        try {
            ReferenceStorage.Entry current = data.entries.get(key);
            checkExpected(id, expectedVersion, current);
            return put(key, id, encoded, current);
        } finally {
            data.lock.unlock();
        }
    }

    private void checkExpected(String id, long expectedVersion, ReferenceStorage.Entry current) {
        if (expectedVersion != ANY_VERSION && !broken(Breakage.IGNORES_EXPECTED_VERSION)) {
            long actual = current == null ? Versioned.ABSENT : current.version();
            if (actual != expectedVersion) {
                throw conflict(id, expectedVersion, current);
            }
        }
    }

    private long put(String key, String id, Object encoded, ReferenceStorage.Entry current) {
        long version = nextVersion(key, current);
        data.entries.put(key, new ReferenceStorage.Entry(id, encoded, version));
        data.lastVersions.put(key, version);
        return version;
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        data.lock.lock();
        try {
            ReferenceStorage.Entry current = data.entries.get(key(id));
            if (expectedVersion != ANY_VERSION && !broken(Breakage.IGNORES_EXPECTED_VERSION)
                    && (current == null || current.version() != expectedVersion)) {
                throw conflict(id, expectedVersion, current);
            }
            data.entries.remove(key(id));
            return current != null || broken(Breakage.DELETE_MISSING_SAYS_TRUE);
        } finally {
            data.lock.unlock();
        }
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        List<Versioned<T>> all = new ArrayList<>();
        data.lock.lock();
        try {
            for (ReferenceStorage.Entry e : data.entries.values()) {
                Versioned<T> v = decode(e);
                if (filter == null || filter.test(v.value())) {
                    all.add(v);
                }
            }
        } finally {
            data.lock.unlock();
        }
        if (broken(Breakage.UNORDERED_GET_ALL)) {
            Collections.reverse(all);
        }
        return all;
    }

    @Override
    protected long doCount(Predicate<? super T> filter) {
        return doGetAll(broken(Breakage.COUNT_IGNORES_FILTER) ? null : filter).size();
    }

    @Override
    protected long doClear() {
        data.lock.lock();
        try {
            long n = data.entries.size();
            data.entries.clear();
            if (broken(Breakage.CLEAR_REMOVES_ALL_TYPES)) {
                for (ReferenceStorage.TypeData other : factory.storage.allTypes()) {
                    other.entries.clear();
                }
            }
            return broken(Breakage.CLEAR_SAYS_ZERO) ? 0 : n;
        } finally {
            data.lock.unlock();
        }
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        return saveEncodedBatch(encode(entities));
    }

    @Override
    protected Supplier<Map<String, Long>> takeForBatch(Map<String, T> entities) {
        Map<String, Object> encoded = encode(entities); // on the caller's thread, as takeForSave
        return () -> saveEncodedBatch(encoded);
    }

    private Map<String, Object> encode(Map<String, T> entities) {
        Map<String, Object> encoded = new LinkedHashMap<>();
        entities.forEach((id, e) -> encoded.put(id, encode(id, e)));
        return encoded;
    }

    private Map<String, Long> saveEncodedBatch(Map<String, Object> encoded) {
        data.lock.lock();
        try {
            Map<String, Long> versions = broken(Breakage.SORTED_BATCH_RESULT) ? new TreeMap<>() : new LinkedHashMap<>();
            encoded.forEach((id, bytes) -> versions.put(id, put(key(id), id, bytes, data.entries.get(key(id)))));
            return versions;
        } finally {
            data.lock.unlock();
        }
    }

    @Override
    protected boolean isOwnerClosed() {
        return factory.isClosed();
    }

    @Override
    protected void doClose() {
        if (broken(Breakage.STORE_CLOSE_CLOSES_FACTORY)) {
            factory.close();
        }
    }

    @Override
    protected String describe() {
        return "reference store " + typeName();
    }

    @Override
    public PerformanceMetrics performanceMetrics() {
        if (broken(Breakage.NO_METRICS)) {
            return new PerformanceMetrics(0, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                    Duration.ZERO, Duration.ZERO, 0, 0, 0, 0, 0, 0);
        }
        return super.performanceMetrics();
    }

    // the broken async twins check on the caller's thread, so their failures are thrown, not delivered

    @Override
    public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) {
        if (broken(Breakage.ASYNC_THROWS_DIRECTLY)) {
            ensureOpen();
            EntityIds.requireValidId(id);
        }
        return super.getAsync(id);
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        if (broken(Breakage.ASYNC_THROWS_DIRECTLY)) {
            ensureOpen();
            EntityIds.requireValidId(id);
            Objects.requireNonNull(entity, "entity");
        }
        if (broken(Breakage.ASYNC_READS_ARGUMENTS_LATE)) {
            return async(() -> save(id, entity));
        }
        return super.saveAsync(id, entity);
    }

    // the late twins hand the caller's own objects to the pool thread, which reads them when it gets to them

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        if (broken(Breakage.ASYNC_READS_ARGUMENTS_LATE)) {
            return async(() -> save(id, entity, expectedVersion));
        }
        return super.saveAsync(id, entity, expectedVersion);
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        if (broken(Breakage.ASYNC_READS_ARGUMENTS_LATE)) {
            return async(() -> saveBatch(entities));
        }
        return super.saveBatchAsync(entities);
    }

    @Override
    public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) {
        if (broken(Breakage.ASYNC_THROWS_DIRECTLY)) {
            ids.forEach(EntityIds::requireValidId);
        }
        return super.getManyAsync(ids);
    }
}
