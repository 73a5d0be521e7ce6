package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.spi.tx.DuplicateTransactionException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The transaction participant of a cluster-registry factory.
 *
 * <h2>Layout</h2>
 * <pre>
 * &lt;root&gt;/Transactions/TX-&lt;token&gt;            BINARY  a prepared branch: its intended writes (encoded envelopes)
 * &lt;root&gt;/Transactions/Locks/&lt;Type&gt;/&lt;Id&gt;     SZ      "TX-&lt;token&gt;" of the prepared branch holding the entity
 * </pre>
 * ({@code <token>} is {@link TransactionId#toToken()}.)
 *
 * <h2>Batches</h2>
 * Prepare: one conditional batch — every entity's version record still has the revision whose
 * version the branch expects (or is absent), no lock exists on it, the record does not exist —
 * that sets a lock on every entity and writes the record. Commit: one batch, conditional on the
 * record existing, that applies the writes and deletes the locks and the record. Rollback: one
 * batch deleting the locks and the record. One-phase commit: one batch with the version and
 * lock conditions and the writes; no record, no locks. Transaction batches are always committed
 * SYNC, whatever {@code replicationMode} says: a prepared branch must be durable.
 *
 * <p>While an entity is locked, the ordinary store refuses writes to it with a
 * {@link ConcurrencyConflictException} naming the transaction (no waiting); reads see the last
 * committed value. Nothing rolls back a prepared record on a timer: only a coordinator's decision
 * (commit / rollback, live or through {@link #recover()}) ends it.
 */
final class RegistryTransactions implements TransactionalResource {

    static final String TRANSACTIONS = "Transactions";
    static final String LOCKS = "Locks";
    static final String RECORD_PREFIX = "TX-";
    private static final int RECORD_FORMAT = 1;

    private final ClusterStoreFactory factory;
    private final RegistryPath transactions;
    private final RegistryPath locks;
    private final Map<TransactionId, RegistryTransactionBranch> live = new ConcurrentHashMap<>();
    /** One ordinary store per entity type, shared by every branch (reads through views, envelope encoding). */
    private final Map<String, TypedStore> stores = new ConcurrentHashMap<>();

    private record TypedStore(Class<?> type, EntityStore<?> store) {
    }

    RegistryTransactions(ClusterStoreFactory factory) {
        this.factory = factory;
        this.transactions = factory.layout().root().child(TRANSACTIONS);
        this.locks = transactions.child(LOCKS);
    }

    // ---- TransactionalResource -----------------------------------------------------------------

    @Override
    public String resourceManagerId() {
        return "cluster-registry:" + factory.registry().uri() + "#" + factory.layout().root();
    }

    @Override
    public TransactionBranch begin(TransactionId id) {
        factory.checkOpen();
        if (live.containsKey(id) || readRecord(id).isPresent()) {
            throw new DuplicateTransactionException(id, resourceManagerId());
        }
        RegistryTransactionBranch branch = new RegistryTransactionBranch(id, this, factory);
        if (live.putIfAbsent(id, branch) != null) {
            throw new DuplicateTransactionException(id, resourceManagerId());
        }
        return branch;
    }

    @Override
    public Optional<TransactionBranch> branch(TransactionId id) {
        return Optional.ofNullable(live.get(id));
    }

    @Override
    public List<TransactionId> recover() {
        factory.checkOpen();
        Map<String, VersionedValue> values;
        try {
            values = registry("listing of prepared transactions", () -> factory.registry().values(transactions));
        } catch (NoSuchKeyException none) {
            return List.of();
        }
        List<TransactionId> out = new ArrayList<>();
        for (String name : values.keySet()) {
            if (name.startsWith(RECORD_PREFIX)) {
                try {
                    out.add(TransactionId.fromToken(name.substring(RECORD_PREFIX.length())));
                } catch (IllegalArgumentException e) {
                    throw new DataIntegrityException(transactions + "/" + name + " is not a transaction record name: " + e.getMessage());
                }
            }
        }
        return out;
    }

    @Override
    public void commitPrepared(TransactionId id) {
        factory.checkOpen();
        RegistryTransactionBranch b = live.get(id);
        if (b != null && b.state() == TransactionBranch.State.PREPARED) {
            b.commit();
            return;
        }
        VersionedValue record = readRecord(id).orElseThrow(() -> new UnknownTransactionException(id, resourceManagerId()));
        applyPrepared(id, decode(id, record.value()), record.revision());
    }

    @Override
    public void rollbackPrepared(TransactionId id) {
        factory.checkOpen();
        RegistryTransactionBranch b = live.get(id);
        if (b != null && b.state() == TransactionBranch.State.PREPARED) {
            b.rollback();
            return;
        }
        VersionedValue record = readRecord(id).orElseThrow(() -> new UnknownTransactionException(id, resourceManagerId()));
        if (!removePrepared(id, decode(id, record.value()))) {
            throw new UnknownTransactionException(id, resourceManagerId());
        }
    }

    @Override
    public String toString() {
        return "transactions of " + resourceManagerId();
    }

    // ---- the batches (used by the branch) ------------------------------------------------------

    /** One write as it is recorded and applied: the envelope is already encoded for {@code newVersion}. */
    record EncodedWrite(String typeName, String id, long expectedVersion, byte[] envelope) {
        boolean isDelete() {
            return envelope == null;
        }

        long newVersion() {
            return expectedVersion + 1;
        }
    }

    /**
     * Validates and records the branch in one batch.
     *
     * @throws ConcurrencyConflictException when a version moved or an entity is locked; nothing was written
     */
    void prepare(TransactionId id, List<EncodedWrite> writes) {
        String recordName = recordName(id);
        byte[] record = encode(writes);
        if (record.length > factory.registry().limits().maxValueSize()) {
            throw EntityTooLargeException.batch("transactional", writes.size(), record.length,
                    factory.registry().limits().maxValueSize());
        }
        List<Long> revisions = validate(writes);
        WriteBatch.Builder b = WriteBatch.builder();
        RegistryValue lock = RegistryValue.sz(recordName);
        for (int i = 0; i < writes.size(); i++) {
            EncodedWrite w = writes.get(i);
            versionCondition(b, w, revisions.get(i));
            b.requireValueAbsent(locks.child(w.typeName()), w.id());
            b.setValue(locks.child(w.typeName()), w.id(), lock);
        }
        b.requireValueAbsent(transactions, recordName).setValue(transactions, recordName, RegistryValue.binary(record));
        WriteBatch batch = checked(b.build(), writes.size());
        boolean[] unknown = {false};
        try {
            commit("prepare of transaction " + id, batch, unknown);
        } catch (ConditionFailedException failed) {
            Optional<VersionedValue> mine = readRecord(id);
            if (unknown[0] && mine.isPresent() && Arrays.equals(mine.get().value().unsafeData(), record)) {
                return; // the first attempt did land
            }
            throw conflict(failed, writes, "prepare of transaction " + id);
        }
    }

    /** Applies a prepared branch, removing its locks and record, in one batch. */
    void applyPrepared(TransactionId id, List<EncodedWrite> writes, long recordRevision) {
        String recordName = recordName(id);
        WriteBatch.Builder b = WriteBatch.builder().requireRevision(transactions, recordName, recordRevision);
        for (EncodedWrite w : writes) {
            apply(b, w);
            b.deleteValue(locks.child(w.typeName()), w.id());
        }
        b.deleteValue(transactions, recordName);
        boolean[] unknown = {false};
        try {
            commit("commit of transaction " + id, b.build(), unknown);
        } catch (ConditionFailedException gone) {
            if (unknown[0] && readRecord(id).isEmpty()) {
                audit("tx-commit", id, writes); // our first attempt did land
                return;
            }
            throw new UnknownTransactionException(id, resourceManagerId());
        }
        audit("tx-commit", id, writes);
    }

    /** The outcome of a transaction and, for a commit, each write it applied, in the audit log. */
    private void audit(String outcome, TransactionId id, List<EncodedWrite> writes) {
        if (!factory.audited()) {
            return;
        }
        String tx = id.toToken();
        factory.audit(outcome, null, List.of(), List.of(), tx);
        if (outcome.equals("tx-commit")) {
            for (EncodedWrite w : writes) {
                factory.audit(w.isDelete() ? "delete" : "save", w.typeName(), List.of(w.id()),
                        List.of(w.isDelete() ? w.expectedVersion() : w.newVersion()), tx);
            }
        }
    }

    /** Removes a prepared branch's locks and record; returns false when there was no record. */
    boolean removePrepared(TransactionId id, List<EncodedWrite> writes) {
        String recordName = recordName(id);
        WriteBatch.Builder b = WriteBatch.builder().requireValueExists(transactions, recordName);
        for (EncodedWrite w : writes) {
            b.deleteValue(locks.child(w.typeName()), w.id());
        }
        b.deleteValue(transactions, recordName);
        boolean[] unknown = {false};
        try {
            commit("rollback of transaction " + id, b.build(), unknown);
            audit("tx-rollback", id, writes);
            return true;
        } catch (ConditionFailedException gone) {
            if (unknown[0]) {
                audit("tx-rollback", id, writes);
            }
            return unknown[0];
        }
    }

    /** Validates and applies writes in one batch, with no record (one-phase commit). */
    void commitOnePhase(TransactionId id, List<EncodedWrite> writes) {
        List<Long> revisions = validate(writes);
        WriteBatch.Builder b = WriteBatch.builder();
        for (int i = 0; i < writes.size(); i++) {
            EncodedWrite w = writes.get(i);
            versionCondition(b, w, revisions.get(i));
            b.requireValueAbsent(locks.child(w.typeName()), w.id());
            apply(b, w);
        }
        WriteBatch batch = checked(b.build(), writes.size());
        boolean[] unknown = {false};
        try {
            commit("one-phase commit of transaction " + id, batch, unknown);
        } catch (ConditionFailedException failed) {
            if (unknown[0] && landed(writes)) {
                audit("tx-commit", id, writes);
                return;
            }
            throw conflict(failed, writes, "commit of transaction " + id);
        }
        audit("tx-commit", id, writes);
    }

    /** Deletes the prepared record of a branch whose prepare may or may not have landed. */
    void removeIfPrepared(TransactionId id, List<EncodedWrite> writes) {
        if (readRecord(id).isPresent()) {
            removePrepared(id, writes);
        }
    }

    /** The shared ordinary store of a type; one class per type name. */
    @SuppressWarnings("unchecked")
    <T> EntityStore<T> store(String typeName, Class<T> type) {
        TypedStore s = stores.computeIfAbsent(typeName, t -> new TypedStore(type, factory.store(t, type)));
        if (s.type() != type) {
            throw new IllegalArgumentException("entity type " + typeName + " is used in transactions with class "
                    + s.type().getName() + ", not " + type.getName());
        }
        return (EntityStore<T>) s.store();
    }

    /** The value pipeline of a type a branch has a view of. */
    @SuppressWarnings("unchecked")
    ValueCodec<Object> codec(String typeName) {
        TypedStore s = stores.get(typeName);
        if (s == null) {
            throw new IllegalStateException("no transactional view of " + typeName + " was opened");
        }
        return ((ClusterPersistenceStore<Object>) s.store()).codec();
    }

    void completed(TransactionId id) {
        live.remove(id);
    }

    // ---- the hook of the ordinary write path ------------------------------------------------------

    /** The key of the locks of one entity type; ordinary writes require the entity's value absent there. */
    RegistryPath locksOf(String typeName) {
        return locks.child(typeName);
    }

    /**
     * When an ordinary write failed because of a lock condition, the conflict error to report
     * (naming the transaction holding the entity); empty for any other failed condition.
     */
    Optional<ConcurrencyConflictException> lockConflict(ConditionFailedException failed, String typeName, String id,
                                                         long expectedVersion, long currentVersion) {
        if (!(failed.failedCommand() instanceof BatchCommand.ValueAbsent a) || !a.key().equals(locksOf(typeName))) {
            return Optional.empty();
        }
        String holder = lockHolder(typeName, a.name());
        return Optional.of(new ConcurrencyConflictException(typeName, id, expectedVersion, currentVersion,
                "locked by prepared transaction " + holder + " until its coordinator commits or rolls it back"));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private String lockHolder(String typeName, String id) {
        return registry("lock read", () -> factory.registry().getValue(locksOf(typeName), id))
                .map(v -> v.value().type() == ValueType.SZ ? v.value().asSz() : "?").orElse("(since released)");
    }

    /** Reads the version records; throws a conflict for a version that is not the expected one. */
    private List<Long> validate(List<EncodedWrite> writes) {
        List<ReadBatch.Read> reads = new ArrayList<>();
        for (EncodedWrite w : writes) {
            reads.add(new ReadBatch.ValueRead(factory.layout().versions(w.typeName()), w.id()));
        }
        ReadBatchResult r = registry("version read of a transaction", () -> factory.registry().read(ReadBatch.of(reads)));
        List<Long> revisions = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            EncodedWrite w = writes.get(i);
            Optional<VersionedValue> v = r.value(i);
            long version = v.map(x -> x.value().asQword()).orElse(Versioned.ABSENT);
            if (version != w.expectedVersion()) {
                throw new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), version);
            }
            revisions.add(v.map(VersionedValue::revision).orElse(0L));
        }
        return revisions;
    }

    private void versionCondition(WriteBatch.Builder b, EncodedWrite w, long revision) {
        RegistryPath versions = factory.layout().versions(w.typeName());
        if (w.expectedVersion() == Versioned.ABSENT) {
            b.requireValueAbsent(versions, w.id());
        } else {
            b.requireRevision(versions, w.id(), revision);
        }
    }

    private void apply(WriteBatch.Builder b, EncodedWrite w) {
        RegistryPath type = factory.layout().type(w.typeName());
        RegistryPath versions = factory.layout().versions(w.typeName());
        if (w.isDelete()) {
            b.deleteValue(type, w.id()).deleteValue(versions, w.id());
        } else {
            b.setValue(type, w.id(), RegistryValue.binary(w.envelope())).setValue(versions, w.id(), RegistryValue.qword(w.newVersion()));
        }
    }

    private boolean landed(List<EncodedWrite> writes) {
        for (EncodedWrite w : writes) {
            Optional<VersionedValue> stored = registry("read back", () -> factory.registry().getValue(factory.layout().type(w.typeName()), w.id()));
            if (w.isDelete() ? stored.isPresent() : stored.isEmpty() || !Arrays.equals(stored.get().value().unsafeData(), w.envelope())) {
                return false;
            }
        }
        return true;
    }

    private ConcurrencyConflictException conflict(ConditionFailedException failed, List<EncodedWrite> writes, String what) {
        BatchCommand c = failed.failedCommand();
        if (c == null) {
            return ConcurrencyConflictException.unknownActual("transaction", "?", -1,
                    what + " failed on condition " + failed.failedCommandIndex());
        }
        for (EncodedWrite w : writes) {
            if (c.key().equals(locksOf(w.typeName())) && c instanceof BatchCommand.ValueAbsent a && a.name().equals(w.id())) {
                return new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), -1,
                        "locked by prepared transaction " + lockHolder(w.typeName(), w.id()));
            }
            if (c.key().equals(factory.layout().versions(w.typeName())) && nameOf(c).equals(w.id())) {
                return ConcurrencyConflictException.unknownActual(w.typeName(), w.id(), w.expectedVersion(),
                        "changed by another writer during " + what);
            }
        }
        return ConcurrencyConflictException.unknownActual("transaction", String.valueOf(c.key()), -1,
                what + " failed on condition " + failed.failedCommandIndex() + ": " + c);
    }

    private static String nameOf(BatchCommand c) {
        if (c instanceof BatchCommand.RevisionEquals r) {
            return r.name();
        }
        if (c instanceof BatchCommand.ValueAbsent a) {
            return a.name();
        }
        return "";
    }

    private WriteBatch checked(WriteBatch batch, int entries) {
        var limits = factory.registry().limits();
        if (batch.size() > limits.maxBatchCommands()) {
            throw new BatchTooLargeException("transactional", entries, batch.size(), limits.maxBatchCommands());
        }
        if (batch.encodedSize() > limits.maxBatchBytes()) {
            throw EntityTooLargeException.batch("transactional", entries, batch.encodedSize(), limits.maxBatchBytes());
        }
        return batch;
    }

    /** Commits SYNC with the factory's retries; records in {@code unknown[0]} whether an attempt's outcome was unknown. */
    private void commit(String what, WriteBatch batch, boolean[] unknown) {
        registry(what, () -> {
            factory.checkMinimumNodes();
            try {
                return factory.registry().commit(batch);
            } catch (RegistryUnavailableException u) {
                if (u.outcomeUnknown()) {
                    unknown[0] = true;
                }
                throw u;
            }
        });
    }

    private <R> R registry(String what, Supplier<R> call) {
        try {
            return factory.retrier().call(what, call, () -> { });
        } catch (ConditionFailedException | NoSuchKeyException expected) {
            throw expected;
        } catch (RegistryLimitException limit) {
            throw EntityTooLargeException.batch("transactional", 0, limit.size(), limit.limit());
        } catch (RegistryArgumentException e) {
            throw new PersistenceException(what + " was refused by the registry: " + e.getMessage(), e);
        } catch (RegistryException e) {
            throw new StoreUnavailableException(what + " failed: " + e.getMessage(), e);
        }
    }

    Optional<VersionedValue> readRecord(TransactionId id) {
        return registry("read of transaction record " + id, () -> factory.registry().getValue(transactions, recordName(id)));
    }

    static String recordName(TransactionId id) {
        return RECORD_PREFIX + id.toToken();
    }

    private static byte[] encode(List<EncodedWrite> writes) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(RECORD_FORMAT);
            out.writeInt(writes.size());
            for (EncodedWrite w : writes) {
                out.writeUTF(w.typeName());
                out.writeUTF(w.id());
                out.writeLong(w.expectedVersion());
                if (w.isDelete()) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(w.envelope().length);
                    out.write(w.envelope());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    List<EncodedWrite> decode(TransactionId id, RegistryValue value) {
        if (value.type() != ValueType.BINARY) {
            throw new DataIntegrityException("transaction record " + recordName(id) + " is " + value.type() + ", not BINARY");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value.unsafeData()))) {
            int format = in.readInt();
            if (format != RECORD_FORMAT) {
                throw new DataIntegrityException("transaction record " + recordName(id) + " has format " + format
                        + "; this ReliableStore reads format " + RECORD_FORMAT);
            }
            int n = in.readInt();
            List<EncodedWrite> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String type = in.readUTF();
                String entity = in.readUTF();
                long expected = in.readLong();
                int len = in.readInt();
                byte[] envelope = len < 0 ? null : in.readNBytes(len);
                if (envelope != null && envelope.length != len) {
                    throw new DataIntegrityException("transaction record " + recordName(id) + " is truncated");
                }
                out.add(new EncodedWrite(type, entity, expected, envelope));
            }
            return out;
        } catch (IOException e) {
            throw new DataIntegrityException("transaction record " + recordName(id) + " is unreadable: " + e.getMessage());
        }
    }
}
