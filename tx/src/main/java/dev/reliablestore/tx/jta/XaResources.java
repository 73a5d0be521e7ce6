package dev.reliablestore.tx.jta;

import dev.reliablestore.spi.tx.TransactionalResource;

import javax.transaction.xa.XAResource;

/**
 * {@link XAResource}s over {@link TransactionalResource}s, for any XA transaction manager.
 *
 * <p>Semantics: {@code start} with TMNOFLAGS / TMJOIN / TMRESUME, {@code end} with TMSUCCESS /
 * TMFAIL (rollback-only) / TMSUSPEND; {@code prepare} returns {@code XA_RDONLY} for a branch that
 * wrote nothing and {@code XA_OK} otherwise, or throws {@code XA_RBROLLBACK} ({@code XA_RBCOMMFAIL}
 * when the store was unreachable, {@code XA_RBTIMEOUT} past the transaction timeout) after rolling
 * back; one- and two-phase commit, rollback, and {@code recover(TMSTARTRSCAN)} listing every
 * prepared branch of the resource. Unknown xid: {@code XAER_NOTA}; wrong state: {@code XAER_PROTO};
 * unreachable store: {@code XAER_RMFAIL}. {@code isSameRM} is true only for adapters of the same
 * resource instance. The transaction timeout set through {@code setTransactionTimeout} is checked at
 * prepare and one-phase commit.
 */
public final class XaResources {

    private XaResources() {
    }

    /** An XA adapter of the resource; adapters of one resource share its branch associations. */
    public static XAResource adapter(TransactionalResource resource) {
        return new ParticipantXaResource(resource);
    }
}
