package dev.reliablestore.tx.jta;

import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The branch associations of one resource, shared by every adapter it creates: kept here, not in
 * the adapter, because a transaction manager may join a branch through another adapter for which
 * {@code isSameRM} was true; not in a static table, so that it lives exactly as long as its owner.
 */
final class BranchAssociations implements XaResources {

    enum Phase { ACTIVE, SUSPENDED, ENDED, PREPARED }

    /** One branch's XA state; guarded by its own monitor. */
    static final class Association {
        final TransactionBranch branch;
        final long deadlineNanos; // 0 = none
        Phase phase = Phase.ACTIVE;
        boolean rollbackOnly;
        /** A prepare was attempted and failed: the branch may hold a prepared record, so its rollback is one of a prepared branch. */
        boolean prepareFailed;

        /** Whether a failing rollback leaves a branch that may be prepared (then never a heuristic answer). */
        boolean mayBePrepared() {
            return phase == Phase.PREPARED || prepareFailed;
        }

        Association(TransactionBranch branch, long deadlineNanos) {
            this.branch = branch;
            this.deadlineNanos = deadlineNanos;
        }

        boolean expired() {
            return deadlineNanos != 0 && System.nanoTime() - deadlineNanos > 0;
        }
    }

    private final TransactionalResource resource;
    private final Map<TransactionId, Association> table = new ConcurrentHashMap<>();

    BranchAssociations(TransactionalResource resource) {
        this.resource = Objects.requireNonNull(resource, "resource");
    }

    @Override
    public ParticipantXaResource adapter() {
        return new ParticipantXaResource(this);
    }

    @Override
    public TransactionalResource resource() {
        return resource;
    }

    Map<TransactionId, Association> table() {
        return table;
    }

    /**
     * Set when a recovery scan found the resource closed: a closed factory never opens again, so recovery leaves it,
     * even with branches still in the table. A branch it owed a commit or rollback keeps its adapter in Narayana's
     * record, which answers {@code XAER_RMFAIL} (the factory is closed) until recovery finds the branch in the scan of
     * a factory opened over the same data and finishes it there.
     */
    private volatile boolean closed;

    void closedFound() {
        closed = true;
    }

    boolean closed() {
        return closed;
    }

    @Override
    public String toString() {
        return "XaResources[" + resource.resourceManagerId() + "]";
    }
}
