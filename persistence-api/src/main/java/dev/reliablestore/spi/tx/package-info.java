/**
 * The participant side of transactions: what a provider implements so that its stores can take
 * part in local two-phase commit (module {@code tx}) and in XA / JTA transactions (module
 * {@code tx-narayana}).
 *
 * <p>{@link dev.reliablestore.spi.tx.TransactionalResource} is the provider connection seen as a
 * resource manager, {@link dev.reliablestore.spi.tx.TransactionBranch} one transaction's work in
 * it. {@link dev.reliablestore.spi.tx.AbstractTransactionBranch} gives a provider the write buffer,
 * the transactional store views and the state machine, leaving only prepare / commit / rollback
 * against its storage. Nothing here is specific to a provider or to XA.
 */
package dev.reliablestore.spi.tx;
