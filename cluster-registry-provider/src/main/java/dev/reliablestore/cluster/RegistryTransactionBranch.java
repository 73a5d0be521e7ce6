package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.spi.tx.AbstractTransactionBranch;
import dev.reliablestore.spi.tx.PendingWrite;
import dev.reliablestore.spi.tx.TransactionId;

import java.util.ArrayList;
import java.util.List;

/** A branch of a cluster-registry factory; see {@link RegistryTransactions} for the batches. */
final class RegistryTransactionBranch extends AbstractTransactionBranch {

    private final RegistryTransactions transactions;
    private final ClusterStoreFactory factory;
    private List<RegistryTransactions.EncodedWrite> prepared;
    private long recordRevision;
    /**
     * Whether a prepare batch of this branch may have reached the registry: false until one is
     * tried, and again when it failed in a way that certainly wrote nothing.
     */
    private boolean recordMayExist;
    /** The class this branch sees each type through (one per type in a branch: AbstractTransactionBranch). */
    private final java.util.Map<String, Class<?>> classes = new java.util.concurrent.ConcurrentHashMap<>();

    RegistryTransactionBranch(TransactionId id, RegistryTransactions transactions, ClusterStoreFactory factory) {
        super(id, transactions);
        this.transactions = transactions;
        this.factory = factory;
    }

    @Override
    protected <T> EntityStore<T> committedStore(String typeName, Class<T> type) {
        classes.put(typeName, type);
        return transactions.store(typeName, type);
    }

    @Override
    protected <T> T copy(String typeName, Class<T> type, T entity) {
        return transactions.copy(typeName, type, entity);
    }

    @Override
    protected void doPrepare(List<PendingWrite> writes) {
        List<RegistryTransactions.EncodedWrite> encoded = encode(writes);
        recordMayExist = true;
        try {
            transactions.prepare(id(), encoded);
        } catch (dev.reliablestore.api.PersistenceException e) {
            // e.g. the validating read failed before the batch was sent: the rollback that follows must not need the
            // registry (which may still be unreachable) to learn that no record exists, or the branch would stay in doubt
            recordMayExist = e.outcomeUnknown();
            throw e;
        }
        prepared = encoded;
        recordRevision = transactions.readRecord(id()).orElseThrow(() -> new IllegalStateException(
                "the record of transaction " + id() + " vanished right after prepare")).revision();
    }

    @Override
    protected void doCommit(List<PendingWrite> writes) {
        transactions.applyUnaudited(id(), prepared, recordRevision);
        try {
            transactions.auditCommit(id(), prepared);
        } catch (RuntimeException unaudited) {
            throw new AfterOutcomeFailure(unaudited); // applied: committed, no longer prepared
        }
    }

    @Override
    protected void doCommitOnePhase(List<PendingWrite> writes) {
        List<RegistryTransactions.EncodedWrite> encoded;
        try {
            encoded = encode(writes);
        } catch (dev.reliablestore.api.PersistenceException e) {
            throw RegistryTransactions.rolledBackIfNothingApplied(id(), e); // nothing was sent
        }
        transactions.commitOnePhaseUnaudited(id(), encoded);
        try {
            transactions.auditCommit(id(), encoded);
        } catch (RuntimeException unaudited) {
            throw new AfterOutcomeFailure(unaudited); // applied: committed, not in doubt
        }
    }

    @Override
    protected void doRollback(List<PendingWrite> writes, boolean prepareAttempted) {
        if (!prepareAttempted || !recordMayExist) {
            return; // nothing reached the registry
        }
        List<RegistryTransactions.EncodedWrite> locked;
        boolean removed;
        if (prepared != null) {
            locked = prepared;
            removed = transactions.removeUnaudited(id(), locked);
        } else {
            // the locks are named by type and id: encoding again could fail as the prepare did (a value too large)
            locked = new ArrayList<>(writes.size());
            for (PendingWrite w : writes) {
                locked.add(new RegistryTransactions.EncodedWrite(w.typeName(), w.id(), w.expectedVersion(), null));
            }
            removed = transactions.removeUnauditedIfPrepared(id(), locked);
        }
        if (removed) {
            try {
                transactions.auditRollback(id(), locked);
            } catch (RuntimeException unaudited) {
                throw new AfterOutcomeFailure(unaudited); // removed: rolled back, no longer prepared
            }
        }
    }

    @Override
    protected void completed() {
        transactions.completed(id());
    }

    private List<RegistryTransactions.EncodedWrite> encode(List<PendingWrite> writes) {
        List<RegistryTransactions.EncodedWrite> out = new ArrayList<>(writes.size());
        for (PendingWrite w : writes) {
            byte[] envelope = null;
            if (!w.isDelete()) {
                envelope = transactions.codec(w.typeName(), classes.get(w.typeName())).encode(w.id(), w.newVersion(), w.value());
                if (envelope.length > factory.maxValueBytes()) {
                    throw new EntityTooLargeException(w.typeName(), w.id(), envelope.length, factory.maxValueBytes());
                }
            }
            out.add(new RegistryTransactions.EncodedWrite(w.typeName(), w.id(), w.expectedVersion(), envelope));
        }
        return out;
    }
}
