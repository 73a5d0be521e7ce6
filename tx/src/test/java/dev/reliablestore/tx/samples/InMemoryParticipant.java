package dev.reliablestore.tx.samples;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.codec.CodecException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.spi.tx.AbstractTransactionBranch;
import dev.reliablestore.spi.tx.DuplicateTransactionException;
import dev.reliablestore.spi.tx.PendingWrite;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

// The participant sample of docs/transactions.md ("Writing a participant"), in a package of its own
// so that it uses public API only; TransactionSamplesTest runs it and checks the page holds it verbatim.
// sample-start participant
/**
 * A participant over any StoreFactory (here: the "memory" provider) and the codec it stores with: its
 * stores are the factory's, and a transaction's writes are validated and applied under one lock. NOT DURABLE: prepared
 * branches live in memory, so a crash between prepare and commit loses them. A real participant
 * writes the prepared record durably in doPrepare and lists it in recover() after a restart.
 */
public final class InMemoryParticipant implements StoreFactory, TransactionalResource {

    private final String name;
    private final StoreFactory data;
    private final EntityCodec codec;
    private final Map<Class<?>, EntityCodec.TypeCodec<?>> typeCodecs = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private final Map<String, Class<?>> types = new ConcurrentHashMap<>();
    private final Map<TransactionId, Branch> live = new ConcurrentHashMap<>();
    private final Map<TransactionId, List<PendingWrite>> prepared = new LinkedHashMap<>(); // guarded by lock
    private final Set<String> locked = new HashSet<>();                                    // guarded by lock

    public InMemoryParticipant(String name, StoreFactory data, EntityCodec codec) {
        this.name = name;
        this.data = data;
        this.codec = codec;
    }

    // ---- the StoreFactory users open stores from (writes outside transactions bypass the locks here)

    @Override
    public String providerName() {
        return "in-memory-sample";
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        types.put(typeName, type);
        return data.store(typeName, type);
    }

    @Override
    public void close() {
        data.close();
    }

    // ---- TransactionalResource: what a coordinator calls

    @Override
    public String resourceManagerId() {
        return "in-memory:" + name; // stable across restarts: coordinator logs record it
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        Branch branch = new Branch(id);
        synchronized (lock) {
            if (prepared.containsKey(id) || live.putIfAbsent(id, branch) != null) {
                throw new DuplicateTransactionException(id, resourceManagerId());
            }
        }
        return branch;
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return Optional.ofNullable(live.get(id));
    }

    @Override
    public List<TransactionId> recover() {
        synchronized (lock) {
            return List.copyOf(prepared.keySet());
        }
    }

    @Override
    public void commitPrepared(TransactionId id) {
        synchronized (lock) {
            List<PendingWrite> writes = prepared.remove(id);
            if (writes == null) {
                throw new UnknownTransactionException(id, resourceManagerId());
            }
            apply(writes);
            writes.forEach(w -> locked.remove(key(w)));
        }
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        synchronized (lock) {
            List<PendingWrite> writes = prepared.remove(id);
            if (writes == null) {
                throw new UnknownTransactionException(id, resourceManagerId());
            }
            writes.forEach(w -> locked.remove(key(w)));
        }
    }

    // ---- one transaction's part: AbstractTransactionBranch buffers the writes, keeps the views and the
    // state machine; a ConcurrencyConflictException from doPrepare or doCommitOnePhase is a "no" vote

    private final class Branch extends AbstractTransactionBranch {

        Branch(TransactionId id) {
            super(id, InMemoryParticipant.this);
        }

        @Override
        protected <T> EntityStore<T> committedStore(String typeName, Class<T> type) {
            return InMemoryParticipant.this.store(typeName, type); // the committed data, not this branch's view
        }

        @Override
        @SuppressWarnings("unchecked") // typeCodecs maps each class to its own codec
        protected <T> T copy(String typeName, Class<T> type, T entity) {
            // what a read of the saved entity returns: through the codec the data factory stores with
            EntityCodec.TypeCodec<T> typeCodec = (EntityCodec.TypeCodec<T>) typeCodecs.computeIfAbsent(type, codec::forType);
            try {
                return typeCodec.decode(typeCodec.encode(entity));
            } catch (CodecException e) {
                throw new PersistenceException(typeName + " entity does not pass through the codec: " + e.getMessage(), e);
            }
        }

        @Override
        protected void doPrepare(List<PendingWrite> writes) {
            synchronized (lock) {
                validate(writes);                      // throws = votes no; nothing recorded
                prepared.put(id(), writes);            // a real participant: write this durably first
                writes.forEach(w -> locked.add(key(w)));
            }
        }

        @Override
        protected void doCommit(List<PendingWrite> writes) {
            commitPrepared(id());
        }

        @Override
        protected void doCommitOnePhase(List<PendingWrite> writes) {
            synchronized (lock) {
                validate(writes);                      // throws = votes no; nothing applied
                apply(writes);
            }
        }

        @Override
        protected void doRollback(List<PendingWrite> writes, boolean prepareAttempted) {
            synchronized (lock) {
                if (prepared.remove(id()) != null) {
                    writes.forEach(w -> locked.remove(key(w)));
                }
            }
        }

        @Override
        protected void completed() {
            live.remove(id());
        }
    }

    /** The "no" vote: a write whose expected version no longer holds, or an entity another transaction prepared. */
    private void validate(List<PendingWrite> writes) {
        for (PendingWrite w : writes) {
            if (locked.contains(key(w))) {
                throw ConcurrencyConflictException.unknownActual(w.typeName(), w.id(), w.expectedVersion(),
                        "locked by another prepared transaction");
            }
            long current = committed(w.typeName()).get(w.id()).map(Versioned::version).orElse(Versioned.ABSENT);
            if (current != w.expectedVersion()) {
                throw new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), current);
            }
        }
    }

    private void apply(List<PendingWrite> writes) {
        for (PendingWrite w : writes) {
            if (w.isDelete()) {
                committed(w.typeName()).delete(w.id(), w.expectedVersion());
            } else {
                committed(w.typeName()).save(w.id(), w.value(), w.expectedVersion());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private EntityStore<Object> committed(String typeName) {
        return (EntityStore<Object>) data.store(typeName, types.get(typeName));
    }

    private static String key(PendingWrite w) {
        return w.typeName() + "/" + w.id();
    }
}
// sample-end participant
