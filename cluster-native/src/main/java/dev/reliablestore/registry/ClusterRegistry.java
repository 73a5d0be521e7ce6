package dev.reliablestore.registry;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A replicated, hierarchical, quorum-consistent key/value database, modelled on the Windows
 * Failover Cluster registry. Keys form a tree below the registry's root; typed values live under
 * keys. Open one with {@link ClusterRegistries#open}.
 *
 * <h2>Writes</h2>
 * Only through atomic {@link WriteBatch}es: all commands apply or none does, and batches are
 * totally ordered by their commit sequence. A false condition raises
 * {@link ConditionFailedException} naming its index. Argument and limit violations raise
 * {@link RegistryArgumentException} / {@link RegistryLimitException} before anything is sent.
 *
 * <h2>Durability</h2>
 * {@link #commit} (SYNC) returns once the batch is durable as the backend defines it (embedded:
 * fsync'ed; ZooKeeper: committed by a quorum). {@link #commitAsync} (ASYNC) returns at once; the
 * future completes when the batch is durable. What an ASYNC batch can lose on a crash is stated by
 * each backend.
 *
 * <h2>Reads</h2>
 * See only committed batches and never wait for an fsync.
 *
 * <p>Implementations are thread-safe.
 */
public interface ClusterRegistry extends AutoCloseable {

    /** The URI the registry was opened with (credentials removed). */
    String uri();

    RegistryLimits limits();

    // ---- reads -----------------------------------------------------------------------------

    /** A value, or empty when the key or the value does not exist. */
    Optional<VersionedValue> getValue(RegistryPath key, String name);

    boolean keyExists(RegistryPath key);

    /**
     * The names of the key's direct subkeys, sorted.
     *
     * @throws NoSuchKeyException when the key does not exist
     */
    List<String> subkeys(RegistryPath key);

    /**
     * The key's values by name, sorted by name.
     *
     * @throws NoSuchKeyException when the key does not exist
     */
    Map<String, VersionedValue> values(RegistryPath key);

    /** Several reads from one consistent point in time. */
    ReadBatchResult read(ReadBatch batch);

    /** The sequence of the newest batch this registry has committed (and a read would see). */
    long currentSequence();

    // ---- writes ----------------------------------------------------------------------------

    /**
     * Commits the batch and returns once it is durable (SYNC).
     *
     * @throws ConditionFailedException    a condition was false; nothing applied
     * @throws RegistryArgumentException   the batch breaks a rule or a limit; nothing applied
     * @throws RegistryUnavailableException the registry cannot commit now (see its outcomeUnknown)
     */
    CommitResult commit(WriteBatch batch);

    /**
     * Commits the batch without waiting for durability (ASYNC). Argument errors are thrown at
     * once; everything else completes the future (a failed condition completes it exceptionally
     * with {@link ConditionFailedException}).
     */
    CompletableFuture<CommitResult> commitAsync(WriteBatch batch);

    /**
     * Whether {@link #commitAsync} evaluates a batch's conditions and applies it before it returns,
     * so that a future not yet complete stands for a batch that passed its conditions and is visible
     * to reads, only not yet durable (the embedded registry: true). Where false (ZooKeeper, clusapi),
     * such a future may still fail its conditions, and bytes a read finds may be another writer's.
     */
    default boolean appliesBeforeCommitAsyncReturns() {
        return false;
    }

    /**
     * For a future {@link #commitAsync} returned that is not yet complete, on a backend that
     * {@linkplain #appliesBeforeCommitAsyncReturns applies before it returns}: the sequence the batch
     * was applied at, visible to reads since, which the future completes with once durable. Empty
     * where the backend cannot say (the default; any other future), and the caller waits for it.
     * Lets an ASYNC caller answer without reading its own write back.
     */
    default OptionalLong appliedSequence(CompletableFuture<CommitResult> pending) {
        return OptionalLong.empty();
    }

    /**
     * As {@link #commitAsync(WriteBatch)}, with the future completed on {@code executor}, so that
     * stages a caller attaches without an executor of their own run there (unless it is already
     * complete when they are attached). For a caller that would hand every answer to its own
     * threads anyway: a backend that completes its futures on a thread of its own hands the answer
     * over once instead of twice. An executor that refuses the answer (one shut down meanwhile) does
     * not turn it into a failure: the future is then completed on the thread that answered.
     */
    default CompletableFuture<CommitResult> commitAsync(WriteBatch batch, Executor executor) {
        return completeOn(commitAsync(batch), executor);
    }

    /**
     * {@link #commit} (SYNC) answered through a future instead of a parked thread: the batch is
     * shown to reads and watches no sooner than {@code commit} would show it (never before it is
     * durable, unless a later ASYNC batch shows it with itself, as it would a SYNC batch), and the
     * future completes once it is durable and visible. Failures are those of {@code commit},
     * through the future (argument and limit errors, and a registry already closed, may be
     * thrown at once). Where every batch is
     * durable before anyone sees it (ZooKeeper, clusapi) this is {@link #commitAsync}; the
     * embedded backend, whose {@code commitAsync} shows a batch at once, publishes it at its
     * fsync instead.
     */
    default CompletableFuture<CommitResult> syncCommitAsync(WriteBatch batch) {
        return commitAsync(batch);
    }

    /**
     * As {@link #syncCommitAsync(WriteBatch)}, with the future completed on {@code executor} as
     * {@link #commitAsync(WriteBatch, Executor)} completes it.
     */
    default CompletableFuture<CommitResult> syncCommitAsync(WriteBatch batch, Executor executor) {
        return completeOn(syncCommitAsync(batch), executor);
    }

    private static CompletableFuture<CommitResult> completeOn(CompletableFuture<CommitResult> future, Executor executor) {
        return future.whenCompleteAsync((r, t) -> { }, task -> {
            try {
                executor.execute(task);
            } catch (RuntimeException refused) { // RejectedExecutionException, or whatever an executor throws instead
                task.run(); // the batch was answered: a refusal must not read as "not written"
            }
        });
    }

    /**
     * Returns once every batch that this registry showed — to a read or a watch — before the call
     * is durable, as durable as {@link #commit} makes a batch; the result is a sequence up to which
     * every batch is durable, at least {@link #currentSequence()} at the call. For a consumer of
     * the feed that must not act on a batch the backend could still lose: the embedded backend
     * shows an ASYNC batch before its fsync (it forces the log now rather than wait for its flush
     * interval); on the ZooKeeper and clusapi backends every batch is durable before anyone sees
     * it, so this costs a read of the current sequence.
     *
     * @throws RegistryUnavailableException the registry cannot tell now (ZooKeeper: no server
     *                                      answered within the failover timeout)
     * @throws RegistryStoppedException    the embedded backend stopped writing before the batches
     *                                      were durable (their fate is known after reopening)
     */
    long awaitDurable();

    // ---- change feed -------------------------------------------------------------------------

    /**
     * Delivers every committed batch touching {@code subtree} to the listener, in commit order: the
     * changes whose key lies in the subtree, plus a {@link Change.KeyDeleted} of an ancestor (which
     * removed the subtree) as is. Batches with nothing for the subtree are not delivered.
     */
    Watch watch(RegistryPath subtree, ChangeListener listener);

    /**
     * Replays the history, then continues live: delivers, in commit order and exactly as
     * {@link #watch(RegistryPath, ChangeListener)} would have, every committed batch touching
     * {@code subtree} whose sequence is greater than {@code afterSequence} — first the batches
     * already committed, read from the backend's retained history, then the new ones, with no gap
     * and no duplicate between the two. {@link Watch#startSequence()} is {@code afterSequence}.
     *
     * <p>For a consumer that keeps a durable checkpoint (the sequence of the last batch it
     * processed) and must resume after a restart without re-reading everything. How long history
     * is kept is each backend's {@code feedRetention} option. An {@code onResync} on such a watch
     * means what it means on a live one; a consumer may instead close the watch and open a new one
     * from its checkpoint, which delivers exactly what it missed while the history still covers it.
     *
     * @param afterSequence the last sequence already processed; {@code 0} for "from the beginning"
     *                      (only while the whole history is retained)
     * @throws FeedHistoryUnavailableException the history no longer reaches back to
     *                                         {@code afterSequence} (see {@link #replayableAfter()})
     * @throws RegistryArgumentException       {@code afterSequence} is negative or greater than
     *                                         {@link #currentSequence()} (a checkpoint from a
     *                                         future this registry does not have, e.g. after it
     *                                         was restored from an older backup)
     */
    Watch watch(RegistryPath subtree, long afterSequence, ChangeListener listener);

    /**
     * The oldest checkpoint {@link #watch(RegistryPath, long, ChangeListener)} accepts now: the
     * history holds every batch with a larger sequence. It only grows, as the backend drops history
     * older than its retention; {@code 0} while the whole history is kept.
     */
    long replayableAfter();

    /**
     * Returns once every batch committed before the call — acknowledged to this or any other
     * client — is visible to this registry's later reads. For a reader that must not miss another
     * process's acknowledged write, e.g. a recovery listing what a crashed process prepared, on a
     * backend whose reads are not linearizable. Nothing to do where every read already sees every
     * committed batch (the embedded registry, clusapi: the default); ZooKeeper sends a quorum barrier
     * on the registry's session, as its linearizable reads do.
     */
    default void readBarrier() {
    }

    // ---- membership and health -----------------------------------------------------------------

    ClusterStatus status();

    /**
     * Whether {@link #status()} lists every node the cluster can have (the embedded registry: its one
     * node; clusapi: the cluster's configured nodes), so that a requirement of more nodes can never be
     * met. False where nodes join by opening a registry (ZooKeeper): the status lists the members
     * seen so far, and more may come.
     */
    default boolean listsEveryNode() {
        return true;
    }

    /** Delivers membership changes until the returned handle is closed. */
    Subscription addMembershipListener(MembershipListener listener);

    /** Probes the registry once (a round trip to a quorum where there is one). */
    HealthReport checkHealth();

    List<HealthFault> healthFaults();

    /** Adds or replaces the fault with the same id. */
    void addHealthFault(HealthFault fault);

    /** Removes a fault; returns whether it existed. */
    boolean removeHealthFault(String id);

    // ---- administrator-initiated failover and drain (docs/reliability.md says what a node is per backend) ----

    /**
     * Moves the primary to {@code target}, or, when empty, to the most preferred other node that is up
     * and not drained. The target is validated first: it must be up, not drained, healthy and caught up
     * with the commit sequence the registry has when the call starts; otherwise nothing moves. Returns
     * once the target is the primary; every registry then reports a
     * {@link MembershipEvent.PrimaryChanged} with {@code requested} true.
     *
     * @return the new primary
     * @throws NodeOperationRefusedException the target failed validation ({@link NodeOperationRefusedException#reason()}
     *                                       says which check), or the move did not complete in time
     */
    default String failover(java.util.Optional<String> target) {
        throw new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNSUPPORTED, target.orElse(null),
                "failover is not offered by " + getClass().getName());
    }

    /**
     * Drains a node: it stops being eligible as primary (if it is the primary, the role moves to another
     * node first) and stays so until {@link #resume}. Returns once the node no longer holds the role.
     *
     * @throws NodeOperationRefusedException unknown node, no other node to take over, or a drain already running
     */
    default void drain(String node) {
        throw new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNSUPPORTED, node,
                "drain is not offered by " + getClass().getName());
    }

    /**
     * Makes a drained node eligible as primary again; the role does not move back by itself.
     *
     * @throws NodeOperationRefusedException unknown node, or the node is not drained
     */
    default void resume(String node) {
        throw new NodeOperationRefusedException(NodeOperationRefusedException.Reason.UNSUPPORTED, node,
                "resume is not offered by " + getClass().getName());
    }

    /** Releases every resource; idempotent. Later calls fail with {@link RegistryClosedException}. */
    @Override
    void close();
}
