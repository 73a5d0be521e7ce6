package dev.reliablestore.tx;

import dev.reliablestore.spi.tx.TransactionalResource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * Creates local transactions and coordinates their commit (the seed's transaction factory).
 *
 * <h2>Configuration ({@link #builder()})</h2>
 * <ul>
 * <li>{@code nodeName} — default {@code "local"}; 1..32 characters of {@code [A-Za-z0-9._-]}. Written into
 *     every transaction id; {@link #recover} only touches branches of its own node name, so each
 *     coordinator process sharing a resource needs its own. With a {@code logDirectory}, {@code build()} locks
 *     {@code <nodeName>.lock} there and throws {@link dev.reliablestore.api.ConfigurationException} while
 *     another factory of the same node has that log open, in this process or another.</li>
 * <li>{@code defaultTimeout} — default 60 s; 1 ms .. 24 h. A transaction not committed by then is
 *     rolled back ({@link TransactionStatus#TIMED_OUT}).</li>
 * <li>{@code logDirectory} — default none. The coordinator log: before the second phase of a
 *     two-phase commit the commit decision is written there and fsync'ed, so that {@link #recover}
 *     can finish the transaction after a crash. <b>Without it, a transaction with two or more
 *     writing participants is refused</b> (rolled back with a clear error): a coordinator without a
 *     log cannot recover in-doubt branches. One writing participant never needs the log (one-phase
 *     commit). For transactions that also span non-ReliableStore resources, use JTA: module
 *     {@code tx-narayana}, package {@code dev.reliablestore.tx.jta}.</li>
 * </ul>
 *
 * <h2>Ambient transaction</h2>
 * {@link #execute} binds the transaction to the calling thread ({@link #current()}); a nested
 * {@code execute} joins it.
 */
public interface TransactionFactory extends AutoCloseable {

    /** A builder with the defaults above. */
    static Builder builder() {
        return new LocalTransactionFactory.BuilderImpl();
    }

    /** Begins a transaction with the default timeout. */
    Transaction begin();

    /**
     * Begins a transaction with its own timeout.
     *
     * @throws IllegalArgumentException when the timeout is outside 1 ms .. 24 h
     */
    Transaction begin(Duration timeout);

    /** The transaction {@link #execute} bound to the calling thread, if any. */
    Optional<Transaction> current();

    /**
     * Runs the work in a transaction and commits it. If the work throws, the transaction is rolled
     * back and the same exception is rethrown (a failure of the rollback is attached to it as
     * suppressed). When the calling thread already runs inside {@code execute} of this factory, the
     * work joins that transaction: nothing is committed here, and a failure marks it rollback-only.
     */
    <R, E extends Exception> R execute(TransactionalWork<R, E> work) throws E;

    /**
     * {@link #execute(TransactionalWork)} in a fresh transaction per attempt, retried by the policy.
     *
     * @throws dev.reliablestore.api.TransactionStateException when called inside an ambient transaction
     *         (it could not be retried alone)
     */
    <R, E extends Exception> R execute(RetryPolicy retry, TransactionalWork<R, E> work) throws E;

    /**
     * Finishes what a crash of this coordinator left in doubt, for the transactions of this node:
     * every prepared branch the resources report is committed if the coordinator log holds a
     * commit decision for its transaction, and rolled back otherwise (presumed abort) unless the
     * transaction is still running in this factory. A decision is deleted from the log once no
     * resource reports its branches any more. Call it at start-up with every resource this
     * coordinator uses.
     */
    RecoveryResult recover(Collection<? extends TransactionalResource> resources);

    /**
     * Rolls back nothing, but stops the timeout timer: transactions still running keep working, and
     * none is rolled back at its deadline any more, but a {@link Transaction#commit()} after its
     * deadline still rolls it back ({@link dev.reliablestore.api.TransactionTimedOutException}). The
     * node's lock on the log directory is released when the last of them, and a {@link #recover}
     * still running, has ended. {@link #begin} and {@link #recover} then throw
     * {@link IllegalStateException}.
     */
    @Override
    void close();

    /** Builds a {@link TransactionFactory}; see the class comment for the keys. */
    interface Builder {
        Builder nodeName(String nodeName);

        Builder defaultTimeout(Duration timeout);

        Builder logDirectory(Path directory);

        TransactionFactory build();
    }
}
