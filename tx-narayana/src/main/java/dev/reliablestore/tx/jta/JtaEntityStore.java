package dev.reliablestore.tx.jta;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionalResource;
import jakarta.transaction.RollbackException;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.SystemException;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A store that joins the calling thread's JTA transaction: with a transaction active, the first
 * call enlists the resource (once per transaction, shared by every store of the resource) and every
 * call goes to the branch's transactional view; with none, calls go straight to the store.
 */
final class JtaEntityStore<T> implements EntityStore<T> {

    /** The enlistments of one resource, per JTA transaction; shared by the resource's stores. */
    static final class Enlistments {
        private final BranchAssociations xa;
        private final TransactionalResource resource;
        private final Map<Transaction, TransactionBranch> branches = new ConcurrentHashMap<>();

        Enlistments(BranchAssociations xa) {
            this.xa = xa;
            this.resource = xa.resource();
        }

        /** The resource's adapters: these enlistments' and recovery's. */
        BranchAssociations xa() {
            return xa;
        }

        TransactionBranch branchFor(Transaction tx) {
            TransactionBranch existing = branches.get(tx);
            if (existing != null) {
                return existing;
            }
            ParticipantXaResource xa = this.xa.adapter();
            try {
                if (!tx.enlistResource(xa)) {
                    throw new IllegalStateException("the JTA transaction " + tx + " refused to enlist " + xa);
                }
                tx.registerSynchronization(new Synchronization() {
                    @Override
                    public void beforeCompletion() {
                    }

                    @Override
                    public void afterCompletion(int status) {
                        branches.remove(tx);
                    }
                });
            } catch (RollbackException e) {
                throw new IllegalStateException("the JTA transaction " + tx + " is marked for rollback; "
                        + resource.resourceManagerId() + " cannot join it", e);
            } catch (SystemException e) {
                throw new StoreUnavailableException("the transaction manager failed to enlist "
                        + resource.resourceManagerId() + ": " + e, e);
            }
            TransactionBranch branch = branchOf(xa, tx);
            branches.put(tx, branch);
            return branch;
        }

        private static TransactionBranch branchOf(ParticipantXaResource xa, Transaction tx) {
            // enlistResource called start(xid, TMNOFLAGS) on this fresh adapter
            TransactionBranch b = xa.startedBranch();
            if (b == null) {
                throw new IllegalStateException("enlisting " + xa + " in " + tx + " did not start a branch");
            }
            return b;
        }
    }

    private final TransactionManager tm;
    private final EntityStore<T> direct;
    private final Enlistments enlistments;
    private final Class<T> type;

    JtaEntityStore(TransactionManager tm, EntityStore<T> direct, Class<T> type, Enlistments enlistments) {
        this.tm = tm;
        this.direct = direct;
        this.type = type;
        this.enlistments = enlistments;
    }

    private EntityStore<T> target() {
        Transaction tx;
        int status;
        try {
            tx = tm.getTransaction();
            status = tx == null ? Status.STATUS_NO_TRANSACTION : tx.getStatus();
        } catch (SystemException e) {
            throw new StoreUnavailableException("cannot ask the transaction manager for the current transaction: " + e, e);
        }
        if (tx == null || status == Status.STATUS_NO_TRANSACTION) {
            return direct;
        }
        if (status != Status.STATUS_ACTIVE) {
            throw new IllegalStateException("the current JTA transaction " + tx + " is not active (it is "
                    + statusName(status) + "); " + direct.typeName() + " cannot be used in it");
        }
        return enlistments.branchFor(tx).store(direct.typeName(), type);
    }

    /** The name of a {@link Status} constant, e.g. STATUS_MARKED_ROLLBACK (also what a timed-out transaction shows). */
    static String statusName(int status) {
        return switch (status) {
            case Status.STATUS_ACTIVE -> "STATUS_ACTIVE";
            case Status.STATUS_MARKED_ROLLBACK -> "STATUS_MARKED_ROLLBACK";
            case Status.STATUS_PREPARED -> "STATUS_PREPARED";
            case Status.STATUS_COMMITTED -> "STATUS_COMMITTED";
            case Status.STATUS_ROLLEDBACK -> "STATUS_ROLLEDBACK";
            case Status.STATUS_UNKNOWN -> "STATUS_UNKNOWN";
            case Status.STATUS_NO_TRANSACTION -> "STATUS_NO_TRANSACTION";
            case Status.STATUS_PREPARING -> "STATUS_PREPARING";
            case Status.STATUS_COMMITTING -> "STATUS_COMMITTING";
            case Status.STATUS_ROLLING_BACK -> "STATUS_ROLLING_BACK";
            default -> "status " + status;
        };
    }

    @Override
    public String typeName() {
        return direct.typeName();
    }

    @Override
    public Optional<Versioned<T>> get(String id) {
        return target().get(id);
    }

    @Override
    public Map<String, Versioned<T>> getMany(Collection<String> ids) {
        return target().getMany(ids);
    }

    @Override
    public boolean exists(String id) {
        return target().exists(id);
    }

    @Override
    public long save(String id, T entity) {
        return target().save(id, entity);
    }

    @Override
    public long save(String id, T entity, long expectedVersion) {
        return target().save(id, entity, expectedVersion);
    }

    @Override
    public boolean delete(String id) {
        return target().delete(id);
    }

    @Override
    public void delete(String id, long expectedVersion) {
        target().delete(id, expectedVersion);
    }

    @Override
    public List<Versioned<T>> getAll() {
        return target().getAll();
    }

    @Override
    public List<Versioned<T>> getAll(Predicate<? super T> filter) {
        return target().getAll(filter);
    }

    @Override
    public long count() {
        return target().count();
    }

    @Override
    public long count(Predicate<? super T> filter) {
        return target().count(filter);
    }

    @Override
    public long clear() {
        return target().clear();
    }

    @Override
    public Map<String, Long> saveBatch(Map<String, ? extends T> entities) {
        return target().saveBatch(entities);
    }

    @Override
    public PerformanceMetrics performanceMetrics() {
        return direct.performanceMetrics();
    }

    /** As the direct store: outside a transaction its saves go there (in one, a stale save fails). */
    @Override
    public boolean mergesStaleSaves() {
        return direct.mergesStaleSaves();
    }

    /** Inside an active JTA transaction, a synchronization of that transaction runs {@code onEnd}. */
    @Override
    public boolean whenTransactionEnds(java.util.function.Consumer<Boolean> onEnd) {
        java.util.Objects.requireNonNull(onEnd, "onEnd");
        try {
            Transaction tx = tm.getTransaction();
            int status = tx == null ? Status.STATUS_NO_TRANSACTION : tx.getStatus();
            if (status == Status.STATUS_NO_TRANSACTION) {
                return false;
            }
            if (status == Status.STATUS_MARKED_ROLLBACK || status == Status.STATUS_ROLLING_BACK || status == Status.STATUS_ROLLEDBACK) {
                // timed out, or marked, since the save was buffered: it will not commit
                onEnd.accept(false);
                return true;
            }
            if (status != Status.STATUS_ACTIVE) {
                return false; // preparing or committing: no write joins it now
            }
            tx.registerSynchronization(new Synchronization() {
                @Override
                public void beforeCompletion() {
                }

                @Override
                public void afterCompletion(int status) {
                    onEnd.accept(status == Status.STATUS_COMMITTED);
                }
            });
            return true;
        } catch (RollbackException e) {
            // marked for rollback already: it will not commit, and no write of this store joined it after that
            onEnd.accept(false);
            return true;
        } catch (SystemException e) {
            throw new StoreUnavailableException("cannot ask the transaction manager for the current transaction: " + e, e);
        }
    }

    @Override
    public <S> S unwrap(Class<S> t) {
        return t.isInstance(this) ? t.cast(this) : direct.unwrap(t);
    }

    /** Closes the underlying store. */
    @Override
    public void close() {
        direct.close();
    }

    // Async twins: the transaction is bound to the calling thread, so the target is chosen here;
    // inside a transaction the view completes the future before returning.

    @Override
    public CompletableFuture<Optional<Versioned<T>>> getAsync(String id) {
        return async(() -> target().getAsync(id));
    }

    @Override
    public CompletableFuture<Map<String, Versioned<T>>> getManyAsync(Collection<String> ids) {
        return async(() -> target().getManyAsync(ids));
    }

    @Override
    public CompletableFuture<Boolean> existsAsync(String id) {
        return async(() -> target().existsAsync(id));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity) {
        return async(() -> target().saveAsync(id, entity));
    }

    @Override
    public CompletableFuture<Long> saveAsync(String id, T entity, long expectedVersion) {
        return async(() -> target().saveAsync(id, entity, expectedVersion));
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String id) {
        return async(() -> target().deleteAsync(id));
    }

    @Override
    public CompletableFuture<Void> deleteAsync(String id, long expectedVersion) {
        return async(() -> target().deleteAsync(id, expectedVersion));
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync() {
        return async(() -> target().getAllAsync());
    }

    @Override
    public CompletableFuture<List<Versioned<T>>> getAllAsync(Predicate<? super T> filter) {
        return async(() -> target().getAllAsync(filter));
    }

    @Override
    public CompletableFuture<Long> countAsync() {
        return async(() -> target().countAsync());
    }

    @Override
    public CompletableFuture<Long> countAsync(Predicate<? super T> filter) {
        return async(() -> target().countAsync(filter));
    }

    @Override
    public CompletableFuture<Long> clearAsync() {
        return async(() -> target().clearAsync());
    }

    @Override
    public CompletableFuture<Map<String, Long>> saveBatchAsync(Map<String, ? extends T> entities) {
        return async(() -> target().saveBatchAsync(entities));
    }

    private static <R> CompletableFuture<R> async(java.util.function.Supplier<CompletableFuture<R>> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public String toString() {
        return "JTA-aware " + direct;
    }
}
