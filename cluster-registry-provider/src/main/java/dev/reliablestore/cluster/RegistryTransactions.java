package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.cluster.geo.ClockSkewException;
import dev.reliablestore.cluster.geo.LocalWrites;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryCorruptedException;
import dev.reliablestore.registry.RegistryPath;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

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
    /**
     * Bytes per entity a prepared transaction's commit at a site may add to its prepare batch: the
     * stamp (origin, clock, a vector of up to 16 sites) and the site name in each envelope's header.
     */
    static final int STAMP_ALLOWANCE = 1536;
    private final Map<TransactionId, RegistryTransactionBranch> live = new ConcurrentHashMap<>();
    /**
     * One ordinary store per entity type and class, shared by every branch (reads through views,
     * envelope encoding): a branch sees a type through one class, another branch may use another.
     */
    private final Map<View, EntityStore<?>> stores = new ConcurrentHashMap<>();

    private final Map<String, EntityRecords> records = new ConcurrentHashMap<>();
    /** The types a commit here marked encrypted (or found marked). */
    private final java.util.Set<String> encryptedTypes = ConcurrentHashMap.newKeySet();

    private record View(String typeName, Class<?> type) {
    }

    RegistryTransactions(ClusterStoreFactory factory) {
        this.factory = factory;
        this.transactions = factory.layout().root().child(TRANSACTIONS);
        this.locks = transactions.child(LOCKS);
    }

    // ---- TransactionalResource -----------------------------------------------------------------

    @Override
    public String resourceManagerId() {
        return "cluster-registry:" + factory.gateway().uri() + "#" + factory.layout().root();
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
        // a crashed process's prepares were acknowledged on its own session: a read that missed one would let the
        // coordinator take the branch for done and forget its decision, and a later call presume it aborted
        factory.gateway().readBarrier("the barrier before listing prepared transactions");
        Map<String, VersionedValue> values = factory.gateway().values("listing of prepared transactions", transactions).orElse(Map.of());
        List<TransactionId> out = new ArrayList<>();
        for (String name : values.keySet()) {
            if (name.startsWith(RECORD_PREFIX)) {
                out.add(recordId(name));
            }
        }
        return out;
    }

    /** The branch id a prepared record's name ({@code TX-<token>}) holds. */
    private TransactionId recordId(String name) {
        try {
            return TransactionId.fromToken(name.substring(RECORD_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new DataIntegrityException(transactions + "/" + name + " is not a transaction record name: " + e.getMessage());
        }
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
        checkShippable(writes.size());
        String recordName = recordName(id);
        byte[] record = encode(writes);
        int maxValueSize = factory.gateway().limits().maxValueSize();
        if (record.length > maxValueSize) {
            throw EntityTooLargeException.batch("transactional", writes.size(), record.length, maxValueSize);
        }
        for (int attempt = 1; ; attempt++) {
            List<EntityRecords.Current> read = validate(writes);
            WriteBatch.Builder b = WriteBatch.builder();
            RegistryValue lock = RegistryValue.sz(recordName);
            for (int i = 0; i < writes.size(); i++) {
                EncodedWrite w = writes.get(i);
                EntityRecords entity = records(w.typeName());
                entity.requireUnchanged(b, w.id(), read.get(i));
                entity.lock(b, w.id(), lock);
            }
            b.requireValueAbsent(transactions, recordName).setValue(transactions, recordName, RegistryValue.binary(record));
            WriteBatch batch = checked(b.build(), writes.size());
            if (factory.siteWrites() != null) {
                // the prepare batch carries every envelope, as the commit will; the commit adds the stamps
                checkShippableBytes(batch, writes.size(), STAMP_ALLOWANCE);
            }
            try {
                commit(RegistryGateway.Commit.durable("prepare of the transaction's writes", batch).of("transactional", writes.size())
                        .landedIf(() -> landedIf(readRecord(id).filter(mine -> Arrays.equals(mine.value().unsafeData(), record)).isPresent())));
                return;
            } catch (ConditionFailedException failed) {
                if (attempt < MAX_VALIDATIONS && onVersionRecord(failed, writes)) {
                    continue; // validated again: a rewrite that kept the version (a re-encryption) is no conflict
                }
                throw conflict(failed, writes, "prepare of the transaction's writes");
            }
        }
    }

    /**
     * Validations of a prepare or one-phase commit whose batch lost a version record's revision
     * condition: a rewrite that keeps the version (re-encryption, {@code reencrypt()}) moves the
     * revision only, and validating again tells it from a conflict (a moved version).
     */
    private static final int MAX_VALIDATIONS = 5;

    /**
     * Whether the condition {@code failed} lost is the revision of one of the writes' version records
     * (or, at a site, of its tombstone, which a re-encryption rewrites too).
     */
    private boolean onVersionRecord(ConditionFailedException failed, List<EncodedWrite> writes) {
        if (!(failed.failedCommand() instanceof BatchCommand.RevisionEquals r)) {
            return false;
        }
        for (EncodedWrite w : writes) {
            EntityRecords entity = records(w.typeName());
            if ((r.key().equals(entity.versionsKey()) || r.key().equals(entity.tombstonesKey())) && r.name().equals(w.id())) {
                return true;
            }
        }
        return false;
    }

    /** {@link #applyUnaudited}, then the audit record, whose failure says that the writes were applied. */
    void applyPrepared(TransactionId id, List<EncodedWrite> writes, long recordRevision) {
        applyUnaudited(id, writes, recordRevision);
        auditCommit(id, writes);
    }

    /**
     * Applies a prepared branch, removing its locks and record, in one batch. At a site of a
     * multi-site store its writes are stamped now, all with one clock reading.
     */
    void applyUnaudited(TransactionId id, List<EncodedWrite> writes, long recordRevision) {
        String recordName = recordName(id);
        long revision = recordRevision;
        for (int attempt = 1; ; attempt++) {
            WriteBatch.Builder b = WriteBatch.builder().requireRevision(transactions, recordName, revision);
            if (factory.siteWrites() != null) {
                try {
                    stampedAtSite(b, writes, RegistryValue.sz(recordName), true);
                } catch (DataIntegrityException moved) {
                    // the entities moved on although the record holds them: unless the record is gone, because
                    // an earlier attempt whose answer was lost applied them (and removed it), as checked below
                    if (readRecord(id).isEmpty()) {
                        throw new UnknownTransactionException(id, resourceManagerId());
                    }
                    throw moved;
                }
            } else {
                for (EncodedWrite w : writes) {
                    apply(b, w);
                    records(w.typeName()).unlock(b, w.id());
                }
            }
            b.deleteValue(transactions, recordName);
            try {
                commit(RegistryGateway.Commit.durable("commit of the transaction's writes", b.build()).of("transactional", writes.size())
                        .landedIf(() -> landedIf(readRecord(id).isEmpty())));
                break;
            } catch (ConditionFailedException lost) {
                // at a site the batch also conditions on its entities' state, which a rewrite keeping the version (a
                // re-encryption) can move: only a record that is gone makes the branch unknown (XAER_NOTA: committed)
                Optional<VersionedValue> record = readRecord(id);
                if (record.isEmpty()) {
                    throw new UnknownTransactionException(id, resourceManagerId());
                }
                if (attempt >= MAX_COMMIT_ATTEMPTS) {
                    throw new StoreUnavailableException("commit of the transaction's writes at " + resourceManagerId() + " lost "
                            + attempt + " races with concurrent rewrites of its entities; the branch stays prepared and the commit"
                            + " can be repeated", lost, false);
                }
                revision = record.get().revision();
            }
        }
        markEncrypted(writes); // never throws: before the audit, which may
    }

    /** The audit records of a commit that took effect; a failure says it did, as a save's does. */
    void auditCommit(TransactionId id, List<EncodedWrite> writes) {
        audit("tx-commit", id, writes);
    }

    /** The audit record of a rollback that took effect; a failure says it did. */
    void auditRollback(TransactionId id, List<EncodedWrite> writes) {
        try {
            audit("tx-rollback", id, writes);
        } catch (RuntimeException unaudited) {
            // not the log's own "the operation was committed": that would read as if the branch's writes had been applied
            throw new dev.reliablestore.api.PersistenceException("the transaction's branch was rolled back (its prepared record and"
                    + " locks are removed, nothing of it was applied), but its audit record could not be written: "
                    + unaudited.getMessage(), unaudited, true);
        }
    }

    /** Attempts of a prepared commit that lose a race with a rewrite of its entities' state (at a site). */
    private static final int MAX_COMMIT_ATTEMPTS = 5;

    /**
     * After a commit that saved encrypted values: marks their types encrypted, once per type and factory, as a
     * store's own saves do (TypeDescriptor.markEncrypted never throws: the commit took effect).
     */
    private void markEncrypted(List<EncodedWrite> writes) {
        if (!factory.envelopeCodec().encrypts()) {
            return;
        }
        // each type tried once per commit: a registry failing after the commit must not hold it up once per write
        java.util.Set<String> tried = new java.util.HashSet<>();
        for (EncodedWrite w : writes) {
            if (!w.isDelete() && !encryptedTypes.contains(w.typeName()) && tried.add(w.typeName())
                    && TypeDescriptor.markEncrypted(factory, w.typeName())) {
                encryptedTypes.add(w.typeName());
            }
        }
    }

    /** The outcome of a transaction and, for a commit, each write it applied, in the audit log. */
    private void audit(String outcome, TransactionId id, List<EncodedWrite> writes) {
        if (!factory.audited()) {
            return;
        }
        List<ClusterStoreFactory.Audited> operations = new java.util.ArrayList<>();
        operations.add(new ClusterStoreFactory.Audited(outcome, null, null, 0));
        if (outcome.equals("tx-commit")) {
            for (EncodedWrite w : writes) {
                operations.add(new ClusterStoreFactory.Audited(w.isDelete() ? "delete" : "save", w.typeName(), w.id(),
                        w.isDelete() ? w.expectedVersion() : w.newVersion()));
            }
        }
        factory.audit(operations, id.toToken());
    }

    /** {@link #removeUnaudited}, then the audit record when it removed one. */
    boolean removePrepared(TransactionId id, List<EncodedWrite> writes) {
        if (!removeUnaudited(id, writes)) {
            return false;
        }
        auditRollback(id, writes);
        return true;
    }

    /** Removes a prepared branch's locks and record; returns false when there was no record. */
    boolean removeUnaudited(TransactionId id, List<EncodedWrite> writes) {
        String recordName = recordName(id);
        WriteBatch.Builder b = WriteBatch.builder().requireValueExists(transactions, recordName);
        for (EncodedWrite w : writes) {
            records(w.typeName()).unlock(b, w.id());
        }
        b.deleteValue(transactions, recordName);
        try {
            // after an unknown outcome the record is gone either way: ours removed it, or another rollback did
            commit(RegistryGateway.Commit.durable("rollback of the transaction's writes", b.build()).of("transactional", writes.size())
                    .landedIf(() -> landedIf(true)));
        } catch (ConditionFailedException gone) {
            return false;
        }
        return true;
    }

    /**
     * Validates and applies writes in one batch, with no record (one-phase commit), without their
     * audit record ({@link #auditCommit} writes that). A failure that certainly applied nothing —
     * before the batch was sent, or a refusal the registry reports as such — is a
     * {@link dev.reliablestore.api.TransactionRolledBackException}: a coordinator must not take it for
     * an outcome it cannot know (JTA would report a heuristic).
     */
    void commitOnePhaseUnaudited(TransactionId id, List<EncodedWrite> writes) {
        try {
            commitOnePhaseOnce(id, writes);
        } catch (dev.reliablestore.api.PersistenceException e) {
            throw rolledBackIfNothingApplied(id, e);
        }
        markEncrypted(writes); // never throws: the commit took effect
    }

    /** {@code e} as a rollback when it says nothing was applied (not a conflict: the branch reports those itself). */
    static dev.reliablestore.api.PersistenceException rolledBackIfNothingApplied(TransactionId id, dev.reliablestore.api.PersistenceException e) {
        if (e.outcomeUnknown() || e instanceof ConcurrencyConflictException || e instanceof dev.reliablestore.api.TransactionRolledBackException) {
            return e;
        }
        return new dev.reliablestore.api.TransactionRolledBackException("the transaction's branch rolled back, nothing of it was applied: "
                + e.getMessage(), e);
    }

    private void commitOnePhaseOnce(TransactionId id, List<EncodedWrite> writes) {
        for (int attempt = 1; ; attempt++) {
            WriteBatch.Builder b = WriteBatch.builder();
            List<EntityRecords.Current> read = null; // null at a site: the batch's conditions are the site's stamps
            if (factory.siteWrites() != null) {
                checkShippable(writes.size());
                stampedAtSite(b, writes, null, false);
            } else {
                read = validate(writes);
                for (int i = 0; i < writes.size(); i++) {
                    EncodedWrite w = writes.get(i);
                    records(w.typeName()).requireUnchanged(b, w.id(), read.get(i));
                    apply(b, w);
                }
            }
            WriteBatch batch = checked(b.build(), writes.size());
            if (factory.siteWrites() != null) {
                checkShippableBytes(batch, writes.size(), 0);
            }
            List<EntityRecords.Current> readAt = read;
            try {
                commit(RegistryGateway.Commit.durable("one-phase commit of the transaction's writes", batch).of("transactional", writes.size())
                        .landedIf(() -> onePhaseLanded(id, writes, readAt, batch)));
                return;
            } catch (ConditionFailedException failed) {
                // a lost condition reaches here only when the batch did not land (onePhaseLanded proves it or throws)
                if (attempt < MAX_VALIDATIONS && onVersionRecord(failed, writes)) {
                    continue; // validated again: a rewrite that kept the version (a re-encryption) is no conflict
                }
                throw conflict(failed, writes, "commit of the transaction's writes");
            }
        }
    }

    /**
     * Deletes the prepared record of a branch whose prepare may or may not have landed, unaudited;
     * returns whether there was one.
     */
    boolean removeUnauditedIfPrepared(TransactionId id, List<EncodedWrite> writes) {
        return readRecord(id).isPresent() && removeUnaudited(id, writes);
    }

    /** The shared ordinary store of a type seen through {@code type}. */
    @SuppressWarnings("unchecked")
    <T> EntityStore<T> store(String typeName, Class<T> type) {
        return (EntityStore<T>) stores.computeIfAbsent(new View(typeName, type), v -> factory.store(typeName, type));
    }

    /** {@link RegistryEntityStore#copyOf}, for a branch's view of the type. */
    <T> T copy(String typeName, Class<T> type, T entity) {
        return ((RegistryEntityStore<T>) store(typeName, type)).copyOf(entity);
    }

    /** The value pipeline of a type a branch has a view of, through {@code type}. */
    @SuppressWarnings("unchecked")
    ValueCodec<Object> codec(String typeName, Class<?> type) {
        EntityStore<?> s = type == null ? null : stores.get(new View(typeName, type));
        if (s == null) {
            throw new IllegalStateException("no transactional view of " + typeName + (type == null ? "" : " as " + type.getName())
                    + " was opened");
        }
        return ((ClusterPersistenceStore<Object>) s).codec();
    }

    void completed(TransactionId id) {
        live.remove(id);
    }

    // ---- the hook of the ordinary write path ------------------------------------------------------

    /** The key of every type's locks. */
    RegistryPath locks() {
        return locks;
    }

    /** The key of the locks of one entity type; ordinary writes require the entity's value absent there. */
    RegistryPath locksOf(String typeName) {
        return locks.child(typeName);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Reads the version records; throws a conflict for a version that is not the expected one. */
    private List<EntityRecords.Current> validate(List<EncodedWrite> writes) {
        List<ReadBatch.Read> reads = new ArrayList<>();
        for (EncodedWrite w : writes) {
            reads.add(records(w.typeName()).versionRead(w.id()));
        }
        ReadBatchResult r = factory.gateway().read("version read of a transaction", ReadBatch.of(reads), () -> { },
                undecodable -> undecodableIn(writes, undecodable));
        List<EntityRecords.Current> read = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            EncodedWrite w = writes.get(i);
            EntityRecords.Current current = records(w.typeName()).current(w.id(), r.value(i));
            // the conflict this may report is never followed by an older hit of the type's cache
            records(w.typeName()).learned(w.id(), current, r.sequence());
            if (current.version() != w.expectedVersion()) {
                throw new ConcurrencyConflictException(w.typeName(), w.id(), w.expectedVersion(), current.version());
            }
            read.add(current);
        }
        return read;
    }

    /** Whose value the registry could not decode, one type at a time; the registry's own damage stays its own. */
    private RuntimeException undecodableIn(List<EncodedWrite> writes, RegistryCorruptedException e) {
        if (records(writes.get(0).typeName()).registryItselfDamaged()) {
            return e;
        }
        Map<String, List<String>> idsByType = new LinkedHashMap<>();
        writes.forEach(w -> idsByType.computeIfAbsent(w.typeName(), t -> new ArrayList<>()).add(w.id()));
        for (Map.Entry<String, List<String>> type : idsByType.entrySet()) {
            Optional<DataIntegrityException> found = records(type.getKey()).firstUndecodable(type.getValue());
            if (found.isPresent()) {
                return found.get();
            }
        }
        return e;
    }

    // ---- at a site of a multi-site store: stamped when they commit (docs/geo-replication.md) ----

    /**
     * Adds the stamped writes of a transaction at this site: each entity's state read (per type, one
     * read batch), every write stamped with one clock reading after all of them, conditioned on the
     * state read and on the lock ({@code heldBy}: the prepared transaction's; null: none, for a
     * one-phase commit), and the locks removed. A version that is not the expected one is a conflict
     * (one-phase; a prepared transaction's locks kept every writer away since its prepare).
     */
    private void stampedAtSite(WriteBatch.Builder b, List<EncodedWrite> writes, RegistryValue heldBy, boolean prepared) {
        LocalWrites sites = factory.siteWrites();
        Map<String, Map<String, EncodedWrite>> byType = new LinkedHashMap<>();
        for (EncodedWrite w : writes) {
            byType.computeIfAbsent(w.typeName(), t -> new LinkedHashMap<>()).put(w.id(), w);
        }
        List<LocalWrites.Read> reads = new ArrayList<>();
        List<Map<String, byte[]>> plains = new ArrayList<>();
        for (Map.Entry<String, Map<String, EncodedWrite>> t : byType.entrySet()) {
            String type = t.getKey();
            LocalWrites.Reading reading = sites.reading(type, t.getValue().keySet());
            ReadBatchResult answer = factory.gateway().read("read of " + type + " " + t.getValue().keySet()
                    + " for a transaction at site " + sites.site(), ReadBatch.of(reading.reads()));
            LocalWrites.Read read;
            try {
                read = sites.read(reading, answer);
            } catch (IllegalStateException | dev.reliablestore.registry.RegistryArgumentException damaged) {
                // a stamp that does not parse, or a value of the wrong registry type: typed as damage: nothing is sent yet, so a one-phase commit is a rollback, not an unknown outcome
                throw new DataIntegrityException("cannot read the state of " + type + " " + t.getValue().keySet() + " at site "
                        + sites.site() + " to check the transaction's versions: " + damaged.getMessage(), damaged);
            }
            // as validate's: the conflict this may report is never followed by an older hit of the type's cache
            EntityRecords typeRecords = records(type);
            read.found().forEach((id, found) -> typeRecords.learned(id, found.exists()
                    ? new EntityRecords.Current(found.version(), found.revision()) : EntityRecords.Current.ABSENT, answer.sequence()));
            Map<String, byte[]> plain = new LinkedHashMap<>();
            read.found().forEach((id, found) -> {
                EncodedWrite w = t.getValue().get(id);
                if (found.version() != w.expectedVersion()) {
                    throw prepared ? new DataIntegrityException(type + "/" + id + " is at version " + found.version() + ", not "
                            + w.expectedVersion() + ", though a prepared transaction holds it")
                            : new ConcurrencyConflictException(type, id, w.expectedVersion(), found.version());
                }
                plain.put(id, w.isDelete() ? null : factory.envelopeCodec().open(type, id, w.newVersion(), w.envelope()).json());
            });
            reads.add(read);
            plains.add(plain);
        }
        try {
            sites.planCommit(reads, plains, heldBy).forEach(b::add);
        } catch (ClockSkewException e) {
            // retryable: the transaction commits once the clocks agree
            throw new SiteClockSkewException("cannot commit the transaction's writes at site " + sites.site() + " now: "
                    + e.getMessage(), e.site(), java.time.Duration.ofMillis(e.aheadMillis()), java.time.Duration.ofMillis(e.maxSkewMillis()), e);
        }
    }

    /**
     * At a site, a transaction is shipped to the other sites as one batch: its translation must fit
     * one batch of a site with the same limits ({@link LocalWrites#COMMANDS_PER_ENTITY} commands per
     * entity and the ledger's two).
     */
    private void checkShippable(int entities) {
        if (factory.siteWrites() == null) {
            return;
        }
        int max = (factory.gateway().limits().maxBatchCommands() - LocalWrites.SHIPPED_BATCH_COMMANDS) / LocalWrites.COMMANDS_PER_ENTITY;
        if (entities > max) {
            throw new BatchTooLargeException("transactional", entities, entities * LocalWrites.COMMANDS_PER_ENTITY
                    + LocalWrites.SHIPPED_BATCH_COMMANDS, factory.gateway().limits().maxBatchCommands());
        }
    }

    /**
     * ... and in bytes, room for what it grows by where it lands (as a store's saveBatch at a site),
     * and {@code allowance} per entity more.
     */
    private void checkShippableBytes(WriteBatch batch, int entities, int allowance) {
        long limit = factory.gateway().limits().maxBatchBytes() - LocalWrites.SHIPPED_BATCH_BYTES
                - (long) entities * (LocalWrites.SHIPPED_BYTES_PER_ENTITY + allowance);
        if (batch.encodedSize() > limit) {
            throw EntityTooLargeException.batch("transactional", entities, batch.encodedSize(), Math.max(0, limit));
        }
    }

    private void apply(WriteBatch.Builder b, EncodedWrite w) {
        EntityRecords entity = records(w.typeName());
        if (w.isDelete()) {
            entity.remove(b, w.id());
        } else {
            entity.put(b, w.id(), w.newVersion(), w.envelope());
        }
    }

    /** The records of a type; what their reads find, the type's cache (if open) learns as from a store's reads. */
    private EntityRecords records(String typeName) {
        return records.computeIfAbsent(typeName, t -> {
            EntityRecords r = factory.records(t, () -> { });
            r.observer((id, current, at) -> factory.caches().seen(t, id, current, at));
            return r;
        });
    }

    /**
     * Whether a one-phase commit whose answer was lost landed: every write exactly ours. Not landed
     * when an entity it read is still at the revision read (the retry failed on something else,
     * e.g. a lock). Otherwise another writer changed an entity it read, before the commit landed (a
     * conflict) or after (an overwrite): unknown, rather than report a rollback for a commit that
     * may have taken effect.
     */
    private OptionalLong onePhaseLanded(TransactionId id, List<EncodedWrite> writes, List<EntityRecords.Current> read, WriteBatch sent) {
        if (landed(writes, sent)) {
            return OptionalLong.of(0);
        }
        for (int i = 0; read != null && i < writes.size(); i++) {
            EncodedWrite w = writes.get(i);
            EntityRecords.Current before = read.get(i);
            // an entity still at the revision the commit read was not written since: the batch, atomic, did not land
            if (before.version() != Versioned.ABSENT && records(w.typeName()).current(w.id()).revision() == before.revision()) {
                return OptionalLong.empty();
            }
        }
        throw new StoreUnavailableException("one-phase commit of the transaction's writes: an attempt was sent and its answer lost, and"
                + " another writer has since changed what it wrote or read, so whether it took effect before that is unknown; read the"
                + " entities to decide", null, true);
    }

    private static OptionalLong landedIf(boolean landed) {
        return landed ? OptionalLong.of(0) : OptionalLong.empty();
    }

    /**
     * Whether every entity holds exactly what {@code sent} left there: the bytes of its last command on
     * the entity's value, or nothing after a delete. At a site the batch seals each envelope again with
     * its stamp (and a delete may leave a tombstone), so the batch, not the branch's envelope, says it.
     */
    private boolean landed(List<EncodedWrite> writes, WriteBatch sent) {
        // indexed once: a transaction's batch holds a few commands per entity
        Map<Map.Entry<RegistryPath, String>, byte[]> left = new HashMap<>();
        for (BatchCommand c : sent.commands()) {
            if (c instanceof BatchCommand.SetValue set) {
                left.put(Map.entry(set.key(), set.name()), set.value().unsafeData());
            } else if (c instanceof BatchCommand.DeleteValue del) {
                left.put(Map.entry(del.key(), del.name()), null);
            }
        }
        for (EncodedWrite w : writes) {
            RegistryPath key = records(w.typeName()).key();
            Map.Entry<RegistryPath, String> at = Map.entry(key, w.id());
            byte[] expected = left.containsKey(at) ? left.get(at) : w.isDelete() ? null : w.envelope();
            Optional<VersionedValue> stored = factory.gateway().value("read back", key, w.id());
            if (expected == null ? stored.isPresent() : stored.isEmpty() || !Arrays.equals(stored.get().value().unsafeData(), expected)) {
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
            Optional<ConcurrencyConflictException> locked = records(w.typeName()).lockConflict(failed, w.id(), w.expectedVersion(), -1);
            if (locked.isPresent()) {
                return locked.get();
            }
            if (c.key().equals(records(w.typeName()).versionsKey()) && nameOf(c).equals(w.id())) {
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
        var limits = factory.gateway().limits();
        if (batch.size() > limits.maxBatchCommands()) {
            throw new BatchTooLargeException("transactional", entries, batch.size(), limits.maxBatchCommands());
        }
        if (batch.encodedSize() > limits.maxBatchBytes()) {
            throw EntityTooLargeException.batch("transactional", entries, batch.encodedSize(), limits.maxBatchBytes());
        }
        return batch;
    }

    /** Transaction batches are always committed SYNC: a prepared branch must be durable. */
    private void commit(RegistryGateway.Commit commit) {
        factory.gateway().commit(commit);
    }

    Optional<VersionedValue> readRecord(TransactionId id) {
        return factory.gateway().value("read of the transaction's record", transactions, recordName(id));
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

    static List<EncodedWrite> decode(TransactionId id, RegistryValue value) {
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
