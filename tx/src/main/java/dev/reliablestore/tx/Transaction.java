package dev.reliablestore.tx;

import dev.reliablestore.spi.tx.TransactionalResource;

import java.time.Instant;
import java.util.function.Consumer;

/**
 * A transaction over one or more {@link TransactionalResource}s, from a {@link TransactionFactory}.
 *
 * <pre>{@code
 * try (Transaction tx = transactions.begin()) {
 *     EnlistedResource shop = tx.enlist(TransactionalResource.from(storeFactory));
 *     shop.store(Customer.class).save("cust1", customer1);
 *     shop.store(Order.class).save("order1", order);
 *     tx.commit();
 * } // not committed: rolled back by close()
 * }</pre>
 *
 * <p>Commit: no participant with writes — nothing to do; one — it commits in one phase (one atomic
 * write, no prepared record); two or more — two-phase commit, with the decision recorded in the
 * factory's coordinator log before the second phase. Every write is validated against the
 * version it expects, so a concurrent change makes the whole transaction roll back with a
 * {@link dev.reliablestore.api.TransactionRolledBackException} whose cause is the
 * {@link dev.reliablestore.api.ConcurrencyConflictException}. Status changes follow
 * {@link TransactionStatus}; a call the status does not allow throws
 * {@link dev.reliablestore.api.TransactionStateException}.
 *
 * <p>Every exception a transaction throws is in {@code dev.reliablestore.api}.
 *
 * <p>A transaction may be used from several threads; its methods are serialized.
 */
public interface Transaction extends AutoCloseable {

    /** The transaction's global id as text (its branches' ids share it). */
    String id();

    TransactionStatus status();

    /** When the transaction times out and is rolled back if it has not committed by then. */
    Instant deadline();

    /**
     * Enlists a resource.
     *
     * @throws IllegalArgumentException when this resource is already enlisted
     * @throws dev.reliablestore.api.TransactionStateException when the transaction is not {@link TransactionStatus#ACTIVE}
     */
    EnlistedResource enlist(TransactionalResource resource);

    /**
     * Remembers the work done so far under a name.
     *
     * @throws IllegalArgumentException when a savepoint of that name exists
     */
    void savepoint(String name);

    /**
     * Undoes every write made after the savepoint, in every enlisted resource (including resources
     * enlisted after it). The savepoint stays; savepoints taken after it are discarded.
     *
     * @throws IllegalArgumentException when there is no savepoint of that name
     */
    void rollbackToSavepoint(String name);

    /** Forgets the savepoint and every later one, keeping the work. */
    void releaseSavepoint(String name);

    /**
     * Runs the callback once the transaction ends, with its final status (COMMITTED, ROLLED_BACK,
     * TIMED_OUT or FAILED), in registration order. A failing callback is logged and does not change
     * the outcome or stop the other callbacks.
     */
    void onCompletion(Consumer<TransactionStatus> callback);

    /** Makes {@link #commit()} roll back instead. */
    void setRollbackOnly();

    boolean isRollbackOnly();

    /**
     * Commits.
     *
     * @throws dev.reliablestore.api.TransactionRolledBackException when it rolled back instead
     *         (a "no" vote, rollback-only, or {@link dev.reliablestore.api.TransactionTimedOutException})
     * @throws dev.reliablestore.api.TransactionOutcomeUnknownException when a one-phase commit failed
     *         without knowing whether it applied, the commit decision reached the coordinator log but
     *         could not be made durable, or a participant could not roll back instead (nothing was
     *         committed, but its branch may stay prepared, holding its locks, until
     *         {@link TransactionFactory#recover} rolls it back); the status is then
     *         {@link TransactionStatus#FAILED}
     * @throws dev.reliablestore.api.PersistenceException with {@code outcomeUnknown()} true and status
     *         {@link TransactionStatus#COMMITTED} (or {@code ROLLED_BACK} for a rollback instead): every
     *         participant reached the outcome, but one failed after it (e.g. its audit record could not be
     *         written), which the message says; not to be retried
     */
    void commit();

    /** Rolls back; a no-op when already rolled back or timed out. */
    void rollback();

    /** Rolls back unless committed or already ended. */
    @Override
    void close();
}
