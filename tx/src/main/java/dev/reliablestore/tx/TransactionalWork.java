package dev.reliablestore.tx;

/**
 * Work run inside a transaction by {@link TransactionFactory#execute}.
 *
 * @param <R> the result
 * @param <E> the checked exception the work may throw (rethrown unchanged)
 */
@FunctionalInterface
public interface TransactionalWork<R, E extends Exception> {
    R run(Transaction transaction) throws E;
}
