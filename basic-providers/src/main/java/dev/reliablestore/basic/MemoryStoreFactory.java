package dev.reliablestore.basic;

import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;

import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/** One private in-memory storage and the stores over it. */
final class MemoryStoreFactory implements StoreFactory {

    /** The encoded entity and its version. */
    record Stored(byte[] json, long version) {
    }

    /**
     * The entities of one type. Reads go to the concurrent map without locking; every write holds
     * {@link #writeLock}, so a version check and the write it guards are one step and a batch
     * (or a clear) is never interleaved with another write of the type.
     */
    static final class TypeData {
        final NavigableMap<String, Stored> entries = new ConcurrentSkipListMap<>();
        final ReentrantLock writeLock = new ReentrantLock();
    }

    private final EntityCodec codec;
    private final long maxEntityBytes;
    private final Map<String, TypeData> types = new ConcurrentHashMap<>();
    private final AsyncExecutor async = new AsyncExecutor("memory");
    private volatile boolean closed;

    MemoryStoreFactory(EntityCodec codec, long maxEntityBytes) {
        this.codec = codec;
        this.maxEntityBytes = maxEntityBytes;
    }

    @Override
    public String providerName() {
        return MemoryProvider.NAME;
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        EntityIds.requireValidTypeName(typeName);
        if (closed) {
            throw new StoreClosedException("memory store factory");
        }
        return new MemoryStore<>(this, typeName, type, types.computeIfAbsent(typeName, k -> new TypeData()),
                new EntityBytes<>(typeName, codec.forType(type), maxEntityBytes), async);
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        async.shutdown();
    }

    @Override
    public String toString() {
        return "memory store factory (" + types.size() + " types)";
    }
}
