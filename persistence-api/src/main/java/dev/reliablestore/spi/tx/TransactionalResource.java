package dev.reliablestore.spi.tx;

import dev.reliablestore.api.StoreFactory;

import java.util.List;
import java.util.Optional;

/**
 * A provider connection that can take part in transactions: the participant side of two-phase
 * commit. A {@link StoreFactory} whose provider supports transactions implements this interface;
 * obtain it with {@link #from(StoreFactory)}.
 *
 * <h2>Life of a branch</h2>
 * {@link #begin} opens a branch for a transaction id. Work happens through the branch's
 * transactional store views; then a coordinator either calls
 * {@link TransactionBranch#commitOnePhase()} (it is the only participant), or
 * {@link TransactionBranch#prepare()} and later {@link TransactionBranch#commit()} /
 * {@link TransactionBranch#rollback()}.
 *
 * <h2>Recovery</h2>
 * A prepared branch is durable: it survives a crash of this process and of the coordinator. After
 * a restart {@link #recover()} lists the prepared ids and {@link #commitPrepared} /
 * {@link #rollbackPrepared} finish them as the coordinator decides. A participant never decides
 * the fate of a prepared branch on its own (no timer rolls it back).
 *
 * <p>Implementations are thread-safe.
 */
public interface TransactionalResource {

    /**
     * A stable name of the data this resource manages (e.g. {@code cluster-registry:embedded:/data/x#/app}),
     * the same across restarts; used in coordinator logs and messages.
     */
    String resourceManagerId();

    /**
     * Opens a new branch.
     *
     * @throws DuplicateTransactionException when a branch with this id is live or prepared here
     */
    TransactionBranch begin(TransactionId id);

    /** The live branch (active or prepared, begun through this instance) with this id. */
    Optional<TransactionBranch> branch(TransactionId id);

    /** The ids of every prepared, not yet completed branch in the resource, whoever began it. */
    List<TransactionId> recover();

    /**
     * Commits a prepared branch by id: a live one or one found by {@link #recover()}.
     *
     * @throws UnknownTransactionException when no prepared branch has this id (e.g. already completed)
     * @throws dev.reliablestore.api.StoreUnavailableException when the resource cannot be reached;
     *         the branch stays prepared and the call may be repeated
     */
    void commitPrepared(TransactionId id);

    /**
     * Rolls back a prepared branch by id: a live one or one found by {@link #recover()}.
     *
     * @throws UnknownTransactionException when no prepared branch has this id
     * @throws dev.reliablestore.api.StoreUnavailableException when the resource cannot be reached;
     *         the branch stays prepared and the call may be repeated
     */
    void rollbackPrepared(TransactionId id);

    /**
     * The factory's transactional side.
     *
     * @throws IllegalArgumentException when the factory's provider does not support transactions
     */
    static TransactionalResource from(StoreFactory factory) {
        if (factory instanceof TransactionalResource resource) {
            return resource;
        }
        throw new IllegalArgumentException("the \"" + factory.providerName() + "\" provider ("
                + factory.getClass().getName() + ") does not support transactions: its store factory is not a "
                + TransactionalResource.class.getName());
    }
}
