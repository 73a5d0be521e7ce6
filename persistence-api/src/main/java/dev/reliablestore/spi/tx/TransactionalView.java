package dev.reliablestore.spi.tx;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.AbstractEntityStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A store bound to one branch: reads see the branch's writes over the committed data, writes are
 * buffered in the branch. Async twins run on the caller's thread (the future is complete on return).
 */
final class TransactionalView<T> extends AbstractEntityStore<T> {

    private final AbstractTransactionBranch branch;
    private final Class<T> valueType;
    private final EntityStore<T> committed;

    TransactionalView(AbstractTransactionBranch branch, String typeName, Class<T> valueType, EntityStore<T> committed) {
        super(typeName, Runnable::run);
        this.branch = branch;
        this.valueType = valueType;
        this.committed = committed;
    }

    Class<T> valueType() {
        return valueType;
    }

    @Override
    protected boolean isOwnerClosed() {
        return !branch.isActive();
    }

    @Override
    protected String describe() {
        return "transactional view of " + typeName() + " in transaction " + branch.id() + " (" + branch.state() + ")";
    }

    @Override
    protected Optional<Versioned<T>> doGet(String id) {
        synchronized (branch) {
            branch.ensureActive(typeName());
            PendingWrite w = branch.pending(typeName(), id);
            if (w != null) {
                return w.isDelete() ? Optional.empty() : Optional.of(new Versioned<>(id, copyOf(w), w.newVersion()));
            }
        }
        Optional<Versioned<T>> found = committed.get(id);
        branch.observe(typeName(), id, found.map(Versioned::version).orElse(Versioned.ABSENT));
        return found;
    }

    @Override
    protected long doSave(String id, T entity, long expectedVersion) {
        synchronized (branch) {
            branch.ensureActive(typeName());
            long current = branch.currentVersion(typeName(), id, committed);
            if (expectedVersion != ANY_VERSION && expectedVersion != current) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, current,
                        "as seen by transaction " + branch.id());
            }
            branch.buffer(typeName(), id, branch.copy(typeName(), valueType, entity));
            return branch.pending(typeName(), id).newVersion();
        }
    }

    @Override
    protected boolean doDelete(String id, long expectedVersion) {
        synchronized (branch) {
            branch.ensureActive(typeName());
            long current = branch.currentVersion(typeName(), id, committed);
            if (expectedVersion != ANY_VERSION && expectedVersion != current) {
                throw new ConcurrencyConflictException(typeName(), id, expectedVersion, current,
                        "as seen by transaction " + branch.id());
            }
            if (current == Versioned.ABSENT) {
                return false;
            }
            branch.buffer(typeName(), id, null);
            return true;
        }
    }

    @Override
    protected List<Versioned<T>> doGetAll(Predicate<? super T> filter) {
        List<Versioned<T>> out = new ArrayList<>();
        for (Versioned<T> v : visible(true).values()) {
            if (filter == null || filter.test(v.value())) {
                out.add(v);
            }
        }
        return out;
    }

    // count, exists and clear need no copies of buffered values: only the entities that a read returns are copied

    @Override
    protected boolean doExists(String id) {
        synchronized (branch) {
            branch.ensureActive(typeName());
            PendingWrite w = branch.pending(typeName(), id);
            if (w != null) {
                return !w.isDelete();
            }
        }
        return doGet(id).isPresent();
    }

    @Override
    protected long doCount(Predicate<? super T> filter) {
        return filter == null ? visible(false).size() : doGetAll(filter).size();
    }

    @Override
    protected long doClear() {
        synchronized (branch) {
            long removed = 0;
            for (String id : visible(false).keySet()) {
                if (doDelete(id, ANY_VERSION)) {
                    removed++;
                }
            }
            return removed;
        }
    }

    /**
     * What the transaction sees, by id: the committed entities (their versions observed) with its own
     * writes over them. {@code copies}: a buffered value is copied, as what a read hands out must be;
     * without, the buffered value itself is in the map, which must then not leave this class.
     */
    private Map<String, Versioned<T>> visible(boolean copies) {
        List<Versioned<T>> base = committed.getAll();
        synchronized (branch) {
            branch.ensureActive(typeName());
            Map<String, Versioned<T>> byId = new TreeMap<>();
            for (Versioned<T> v : base) {
                byId.put(v.id(), v);
                branch.observe(typeName(), v.id(), v.version());
            }
            for (Map.Entry<String, PendingWrite> e : branch.pendingOfType(typeName()).entrySet()) {
                PendingWrite w = e.getValue();
                if (w.isDelete()) {
                    byId.remove(e.getKey());
                } else {
                    byId.put(e.getKey(), new Versioned<>(e.getKey(), copies ? copyOf(w) : valueType.cast(w.value()), w.newVersion()));
                }
            }
            return byId;
        }
    }

    @Override
    protected Map<String, Long> doSaveBatch(Map<String, T> entities) {
        synchronized (branch) {
            // all or nothing, as a batch is outside a transaction: a failure part-way (reading an entry's
            // committed version) takes back the entries already buffered
            long mark = branch.mark();
            Map<String, Long> versions = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, T> e : entities.entrySet()) {
                    versions.put(e.getKey(), doSave(e.getKey(), e.getValue(), ANY_VERSION));
                }
            } catch (RuntimeException failed) {
                try {
                    branch.rollbackTo(mark);
                } catch (RuntimeException notActive) {
                    failed.addSuppressed(notActive);
                }
                throw failed;
            }
            return versions;
        }
    }

    /** A buffered value as a read in the transaction returns it: a copy, so that changing it changes nothing buffered. */
    private T copyOf(PendingWrite w) {
        return branch.copy(typeName(), valueType, valueType.cast(w.value()));
    }

    @Override
    protected void doClose() {
        // a view owns nothing; the branch ends with commit or rollback
    }

    @Override
    public String toString() {
        return describe();
    }
}
