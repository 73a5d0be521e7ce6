package dev.reliablestore.tx.jta;

import dev.reliablestore.spi.tx.TransactionalResource;

import javax.transaction.xa.XAResource;

/**
 * The XA face of one {@link TransactionalResource}, for any XA transaction manager: create one per
 * resource with {@link #of}, keep it as long as the resource, and take {@link XAResource}s from it.
 * It owns the resource's branch associations (active / suspended / ended / prepared); its adapters
 * share them, so {@code start(TMJOIN)} on one adapter finds a branch another one started. With
 * {@link NarayanaJta}, take it from {@link NarayanaJta#xaResources} instead, so that the stores,
 * recovery and your own enlistments share one.
 *
 * <p>Semantics: {@code start} with TMNOFLAGS / TMJOIN / TMRESUME, {@code end} with TMSUCCESS /
 * TMFAIL (rollback-only) / TMSUSPEND; {@code prepare} returns {@code XA_RDONLY} for a branch that
 * wrote nothing and {@code XA_OK} otherwise, or throws {@code XA_RBROLLBACK} ({@code XA_RBCOMMFAIL}
 * when the store was unreachable, {@code XA_RBTIMEOUT} past the transaction timeout) after rolling
 * back; one- and two-phase commit, rollback, and {@code recover(TMSTARTRSCAN)} listing every
 * prepared branch of the resource. Unknown xid: {@code XAER_NOTA}; wrong state: {@code XAER_PROTO};
 * unreachable store: {@code XAER_RMFAIL}. {@code isSameRM} is true only for adapters of the same
 * {@code XaResources}. The transaction timeout set through {@code setTransactionTimeout} is checked
 * at prepare and one-phase commit.
 */
public interface XaResources {

    /** A new owner of the resource's branch associations; one per resource (adapters of two do not share branches). */
    static XaResources of(TransactionalResource resource) {
        return new BranchAssociations(resource);
    }

    /** A new adapter; every adapter of this object shares its branch associations. */
    XAResource adapter();

    /** The resource the adapters work on. */
    TransactionalResource resource();
}
