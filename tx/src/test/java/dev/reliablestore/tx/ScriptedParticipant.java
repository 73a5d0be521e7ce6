package dev.reliablestore.tx;

import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.tx.testing.FileParticipant;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * A {@link FileParticipant} whose phase-two commit can be held or fail once, and whose
 * {@code recover()} can run code before and after its scan: a transaction finishing while a
 * recovery runs, at a chosen point.
 */
final class ScriptedParticipant implements TransactionalResource {

    private final FileParticipant data;
    /** The next phase-two commit throws (the branch stays prepared). */
    volatile boolean failNextCommit;
    /** When set, a phase-two commit waits for it first. */
    volatile CountDownLatch holdCommit;
    /** Runs once, when the coordinator next asks a branch whether it wrote anything. */
    volatile Runnable onIsReadOnly;
    /** Runs at the start of the next {@code recover()}. */
    volatile Runnable beforeRecover;
    /** Runs at the end of the next {@code recover()}, after the scan. */
    volatile Runnable afterRecover;

    ScriptedParticipant(FileParticipant data) {
        this.data = data;
    }

    @Override
    public String resourceManagerId() {
        return data.resourceManagerId();
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        return new Branch(data.begin(id));
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return data.branch(id).map(Branch::new);
    }

    @Override
    public List<TransactionId> recover() {
        Runnable before = beforeRecover;
        beforeRecover = null;
        if (before != null) {
            before.run();
        }
        List<TransactionId> prepared = data.recover();
        Runnable after = afterRecover;
        afterRecover = null;
        if (after != null) {
            after.run();
        }
        return prepared;
    }

    @Override
    public void commitPrepared(TransactionId id) {
        data.commitPrepared(id);
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        data.rollbackPrepared(id);
    }

    private final class Branch extends DelegatingBranch {

        Branch(TransactionBranch delegate) {
            super(delegate, ScriptedParticipant.this);
        }

        @Override
        public boolean isReadOnly() {
            Runnable hook = onIsReadOnly;
            onIsReadOnly = null;
            if (hook != null) {
                hook.run();
            }
            return super.isReadOnly();
        }

        @Override
        public void commit() {
            CountDownLatch hold = holdCommit;
            if (hold != null) {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StoreUnavailableException("interrupted while held");
                }
            }
            if (failNextCommit) {
                failNextCommit = false;
                throw new StoreUnavailableException("phase-two commit failed once (test)");
            }
            delegate.commit();
        }
    }
}
