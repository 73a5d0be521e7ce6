package dev.reliablestore.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.spi.tx.AbstractTransactionBranch;
import dev.reliablestore.spi.tx.PendingWrite;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;
import dev.reliablestore.tx.testing.FileParticipant;

import java.util.List;
import java.util.Optional;

/** A participant whose rollback always fails, to see how coordinators report that. */
final class FailingRollbackResource implements TransactionalResource {

    private final FileParticipant data;

    FailingRollbackResource(FileParticipant data) {
        this.data = data;
    }

    @Override
    public String resourceManagerId() {
        return "failing-rollback";
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        return new AbstractTransactionBranch(id, this) {
            @Override
            protected <T> EntityStore<T> committedStore(String typeName, Class<T> type) {
                return data.store(typeName, type);
            }

            @Override
            protected <T> T copy(String typeName, Class<T> type, T entity) {
                return entity; // Strings here: nothing a caller can change
            }

            @Override
            protected void doPrepare(List<PendingWrite> writes) {
                throw new StoreUnavailableException("prepare refused");
            }

            @Override
            protected void doCommit(List<PendingWrite> writes) {
                throw new StoreUnavailableException("commit refused");
            }

            @Override
            protected void doCommitOnePhase(List<PendingWrite> writes) {
                throw new StoreUnavailableException("commit refused");
            }

            @Override
            protected void doRollback(List<PendingWrite> writes, boolean prepareAttempted) {
                throw new StoreUnavailableException("rollback refused");
            }
        };
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return Optional.empty();
    }

    @Override
    public List<TransactionId> recover() {
        return List.of();
    }

    @Override
    public void commitPrepared(TransactionId id) {
        throw new UnknownTransactionException(id, resourceManagerId());
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        throw new UnknownTransactionException(id, resourceManagerId());
    }
}
