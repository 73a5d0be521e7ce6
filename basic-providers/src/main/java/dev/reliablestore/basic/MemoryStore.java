package dev.reliablestore.basic;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** A store of the memory provider (see {@link MemoryProvider}). */
final class MemoryStore<T> extends AbstractEntityStore<T> {

    private final MemoryStoreFactory factory;
    private final Class<T> type;
    private final MemoryStoreFactory.TypeData data;
    private final EntityBytes<T> codec;

    MemoryStore(MemoryStoreFactory factory, String typeName, Class<T> type, MemoryStoreFactory.TypeData data,
                EntityBytes<T> codec, Executor async) {
        super(typeName, async);
        this.factory = factory;
        this.type = type;
        this.data = data;
        this.codec = codec;
    }

    private Versioned<T> decode(String id, MemoryStoreFactory.Stored stored) {
        return new Versioned<>(id, codec.decode(id, stored.json(), "memory"), stored.version());
    }

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        MemoryStoreFactory.Stored stored = data.entries.get(id);
        return stored == null ? Optional.empty() : Optional.of(decode(id, stored));
    }

    @Override
    protected boolean doExists(String id) {
        return data.entries.containsKey(id);
    }

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        return saveEncoded(id, codec.encode(id, entity), expectedVersion);
    }

    @Override
    protected LongSupplier takeForSave(String id, T entity, long expectedVersion) {
        byte[] json = codec.encode(id, entity); // on the caller's thread: a later change of its object is not saved
        return () -> saveEncoded(id, json, expectedVersion);
    }

    private long saveEncoded(String id, byte[] json, long expectedVersion) {
        data.writeLock.lock();
        try {
            MemoryStoreFactory.Stored current = data.entries.get(id);
            long actual = current == null ? Versioned.ABSENT : current.version();
            if (expectedVersion != ANY_VERSION && expectedVersion != actual) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, actual);
            }
            data.entries.put(id, new MemoryStoreFactory.Stored(json, actual + 1));
            return actual + 1;
        } finally {
            data.writeLock.unlock();
        }
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        data.writeLock.lock();
        try {
            MemoryStoreFactory.Stored current = data.entries.get(id);
            long actual = current == null ? Versioned.ABSENT : current.version();
            if (expectedVersion != ANY_VERSION && expectedVersion != actual) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, actual);
            }
            return data.entries.remove(id) != null;
        } finally {
            data.writeLock.unlock();
        }
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        List<Versioned<T>> all = new ArrayList<>();
        for (Map.Entry<String, MemoryStoreFactory.Stored> e : data.entries.entrySet()) {
            Versioned<T> v = decode(e.getKey(), e.getValue());
            if (filter == null || filter.test(v.value())) {
                all.add(v);
            }
        }
        return all;
    }

    @Override
    protected long doCount(Predicate<? super T> filter) {
        return filter == null ? data.entries.size() : super.doCount(filter);
    }

    @Override
    protected long doClear() {
        data.writeLock.lock();
        try {
            long n = data.entries.size();
            data.entries.clear();
            return n;
        } finally {
            data.writeLock.unlock();
        }
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        return saveEncodedBatch(encode(entities));
    }

    @Override
    protected Supplier<Map<String, Long>> takeForBatch(Map<String, T> entities) {
        Map<String, byte[]> encoded = encode(entities); // on the caller's thread, as takeForSave
        return () -> saveEncodedBatch(encoded);
    }

    /** Every entry encoded (and size-checked) before the data is touched: a failure writes nothing. */
    private Map<String, byte[]> encode(Map<String, T> entities) {
        Map<String, byte[]> encoded = new LinkedHashMap<>();
        entities.forEach((id, e) -> encoded.put(id, codec.encode(id, e)));
        return encoded;
    }

    private Map<String, Long> saveEncodedBatch(Map<String, byte[]> encoded) {
        data.writeLock.lock();
        try {
            Map<String, Long> versions = new LinkedHashMap<>();
            encoded.forEach((id, json) -> {
                MemoryStoreFactory.Stored current = data.entries.get(id);
                long version = (current == null ? Versioned.ABSENT : current.version()) + 1;
                data.entries.put(id, new MemoryStoreFactory.Stored(json, version));
                versions.put(id, version);
            });
            return versions;
        } finally {
            data.writeLock.unlock();
        }
    }

    @Override
    protected boolean isOwnerClosed() {
        return factory.isClosed();
    }

    @Override
    protected void doClose() {
        // nothing of its own: the data belongs to the factory
    }

    @Override
    protected String describe() {
        return "memory store " + typeName();
    }

    @Override
    public String toString() {
        return describe();
    }
}
