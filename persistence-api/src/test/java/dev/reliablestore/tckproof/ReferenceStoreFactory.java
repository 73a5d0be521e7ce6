package dev.reliablestore.tckproof;

import dev.reliablestore.api.EntityIds;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The smallest correct provider: a map guarded by one lock per type, values copied through
 * Jackson. Built with {@link Breakage}s it becomes the broken providers the TCK must reject.
 */
final class ReferenceStoreFactory implements StoreFactory {

    static final long MAX_ENTITY_BYTES = 64 * 1024;

    final ReferenceStorage storage;
    final Set<Breakage> breakages;
    private final AtomicInteger storesOpened = new AtomicInteger();
    private volatile boolean closed;

    ReferenceStoreFactory(ReferenceStorage storage, Set<Breakage> breakages) {
        this.storage = storage;
        this.breakages = breakages.isEmpty() ? EnumSet.noneOf(Breakage.class) : EnumSet.copyOf(breakages);
    }

    boolean broken(Breakage b) {
        return breakages.contains(b);
    }

    @Override
    public String providerName() {
        return ReferenceProvider.NAME;
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        if (broken(Breakage.ACCEPTS_BAD_IDS)) {
            typeName = BrokenApiStore.repair(typeName);
        }
        EntityIds.requireValidTypeName(typeName);
        if (closed && !broken(Breakage.FACTORY_CLOSE_IGNORED)) {
            throw new StoreClosedException("reference store factory");
        }
        String key = typeName;
        if (broken(Breakage.TYPES_SHARE_IDS)) {
            key = "";
        } else if (broken(Breakage.TYPES_CASE_INSENSITIVE)) {
            key = typeName.toLowerCase(java.util.Locale.ROOT);
        }
        if (broken(Breakage.STORES_DO_NOT_SHARE)) {
            key = key + "#" + storesOpened.incrementAndGet();
        }
        ReferenceStore<T> store = new ReferenceStore<>(this, typeName, type, storage.type(key));
        return breakages.stream().anyMatch(Breakage::isApiLevel) ? new BrokenApiStore<>(store, breakages) : store;
    }

    boolean isClosed() {
        return closed && !broken(Breakage.FACTORY_CLOSE_IGNORED);
    }

    @Override
    public void close() {
        closed = true;
    }
}
