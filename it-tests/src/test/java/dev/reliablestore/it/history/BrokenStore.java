package dev.reliablestore.it.history;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A deliberately broken {@link EntityStore} wrapper, to prove the checker catches what it must:
 * <ul>
 *   <li>{@link Breakage#STALE_CACHE}: a read cache that unconditional saves and deletes invalidate but
 *       conditional saves forget to, so reads keep serving a value a CAS has replaced;</li>
 *   <li>{@link Breakage#NON_ATOMIC_CAS}: compare-and-set as read, compare, then an unconditional write,
 *       so two racing CASes from the same version both succeed and one update is lost.</li>
 * </ul>
 */
final class BrokenStore extends AbstractEntityStore<Register> {

    enum Breakage { STALE_CACHE, NON_ATOMIC_CAS }

    private final EntityStore<Register> inner;
    private final Breakage breakage;
    private final Map<String, Optional<Versioned<Register>>> cache = new ConcurrentHashMap<>();

    BrokenStore(EntityStore<Register> inner, Breakage breakage) {
        super(inner.typeName(), Runnable::run);
        this.inner = inner;
        this.breakage = breakage;
    }

    @Override
    protected Optional<Versioned<Register>> doGet(String id) {
        if (breakage == Breakage.STALE_CACHE) {
            return cache.computeIfAbsent(id, inner::get);
        }
        return inner.get(id);
    }

    @Override
    protected long doSave(String id, Register entity, long expectedVersion) {
        if (expectedVersion == ANY_VERSION) {
            long v = inner.save(id, entity);
            cache.remove(id);
            return v;
        }
        if (breakage == Breakage.NON_ATOMIC_CAS) {
            long current = inner.get(id).map(Versioned::version).orElse(Versioned.ABSENT);
            if (current != expectedVersion) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, current);
            }
            Thread.yield(); // the window in which another CAS passes the same check
            return inner.save(id, entity);
        }
        return inner.save(id, entity, expectedVersion); // STALE_CACHE: and the cache is not invalidated
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        try {
            if (expectedVersion == ANY_VERSION) {
                return inner.delete(id);
            }
            inner.delete(id, expectedVersion);
            return true;
        } finally {
            cache.remove(id);
        }
    }

    @Override
    protected List<Versioned<Register>> doGetAll(Predicate<? super Register> filter) {
        return filter == null ? inner.getAll() : inner.getAll(filter);
    }

    @Override
    protected long doClear() {
        cache.clear();
        return inner.clear();
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, Register> entities) {
        throw new UnsupportedOperationException();
    }

    @Override
    protected void doClose() {
        inner.close();
    }
}
