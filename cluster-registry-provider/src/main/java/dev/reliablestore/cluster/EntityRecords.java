package dev.reliablestore.cluster;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.Versioned;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * The records of one entity type as the registry holds them: per id an envelope
 * ({@code Entities/<Type>/<Id>}) and a version record ({@code _versions/<Id>}) written in the same
 * batch, and the lock a prepared transaction holds on it. Builds the commands and conditions of
 * saves, deletes and locks, and decodes what is read; the store and the transaction participant
 * both write through it. Reads go through the {@link RegistryGateway}.
 */
final class EntityRecords {

    /** What the registry holds for an id: its envelope, version and revision (both values share the revision). */
    record Stored(byte[] envelope, long version, long revision) {
    }

    /** The version record only. */
    record Current(long version, long revision) {
        static final Current ABSENT = new Current(Versioned.ABSENT, 0);
    }

    /** The entities found by one consistent read (absent ids are left out), and the sequence it was answered at. */
    record Read(Map<String, Stored> entities, long sequence) {
    }

    private final RegistryGateway gateway;
    private final StorageLayout layout;
    private final String typeName;
    private final RegistryPath key;
    private final RegistryPath versionsKey;
    private final RegistryPath locksKey;
    private final Runnable onRetry;
    private final Map<String, Seen> remembered = new ConcurrentHashMap<>();
    /** Told every version record a read of these records found (the store's local cache follows them). */
    private volatile Observer observer = (id, current, at) -> { };

    /** What a read found for an id: its version record as of registry sequence {@code at}. */
    interface Observer {
        void seen(String id, Current current, long at);

        /**
         * A read of every version record of the type, answered at {@code at}, found what {@code found}
         * returns for an id: its version record, {@link Current#ABSENT} for an id it did not find, or
         * null when that id's record is not one to go by (not a version).
         */
        default void seenAll(Function<String, Current> found, long at) {
        }
    }

    /** An index of the type: id → version record, and the sequence it was read at. */
    record Index(Map<String, VersionedValue> versions, long sequence) {
    }

    /** A version record as seen by a read or written by a commit, and the sequence it was seen at. */
    private record Seen(Current current, long at) {
    }

    /** At most this many remembered version records; all are dropped when full (a miss costs one read). */
    static final int MAX_REMEMBERED = 100_000;

    EntityRecords(RegistryGateway gateway, StorageLayout layout, RegistryPath locksKey, String typeName, Runnable onRetry) {
        this.gateway = gateway;
        this.layout = layout;
        this.typeName = typeName;
        this.key = layout.type(typeName);
        this.versionsKey = layout.versions(typeName);
        this.locksKey = locksKey;
        this.onRetry = onRetry;
    }

    String typeName() {
        return typeName;
    }

    /** Tells {@code o} of every version record a read finds from now on. */
    void observer(Observer o) {
        this.observer = o;
    }

    RegistryPath key() {
        return key;
    }

    RegistryPath versionsKey() {
        return versionsKey;
    }

    RegistryPath locksKey() {
        return locksKey;
    }

    String where(String id) {
        return typeName + "/" + id;
    }

    // ---- reads -------------------------------------------------------------------------------

    /** The envelopes and versions of {@code ids}, from one point in time. */
    Read get(List<String> ids) {
        if (ids.isEmpty()) {
            return new Read(Map.of(), -1);
        }
        List<ReadBatch.Read> reads = new ArrayList<>(2 * ids.size());
        for (String id : ids) {
            reads.add(new ReadBatch.ValueRead(key, id));
            reads.add(new ReadBatch.ValueRead(versionsKey, id));
        }
        String what = ids.size() == 1 ? "read of " + where(ids.get(0)) : "read of " + ids.size() + " " + typeName + " entities";
        ReadBatchResult r = read(what, ids, ReadBatch.of(reads));
        Map<String, Stored> found = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            Stored s = stored(ids.get(i), r.value(2 * i), r.value(2 * i + 1));
            if (s != null) {
                found.put(ids.get(i), s);
            }
            seen(ids.get(i), s == null ? Current.ABSENT : new Current(s.version(), s.revision()), r.sequence());
        }
        return new Read(found, r.sequence());
    }

    /** Every entity of the type, in id order. */
    Read all() {
        ReadBatchResult r = read("read of all " + typeName + " entities", null, ReadBatch.of(
                new ReadBatch.ValuesRead(key), new ReadBatch.ValuesRead(versionsKey)));
        Map<String, VersionedValue> envelopes = r.values(0).orElse(Map.of());
        Map<String, Stored> found = new TreeMap<>();
        for (Map.Entry<String, VersionedValue> v : r.values(1).orElse(Map.of()).entrySet()) {
            found.put(v.getKey(), stored(v.getKey(), Optional.ofNullable(envelopes.get(v.getKey())), Optional.of(v.getValue())));
        }
        // an entity this read shows deleted must not come back from the cache (as get's tombstones ensure)
        observer.seenAll(id -> {
            Stored s = found.get(id);
            return s == null ? Current.ABSENT : new Current(s.version(), s.revision());
        }, r.sequence());
        return new Read(found, r.sequence());
    }

    /** The type's index: id → version record. */
    Index index(String what) {
        ReadBatchResult r = read(what, null, ReadBatch.of(new ReadBatch.ValuesRead(versionsKey)));
        Map<String, VersionedValue> versions = r.values(0).orElse(Map.of());
        observer.seenAll(id -> {
            VersionedValue v = versions.get(id);
            if (v == null) {
                return Current.ABSENT;
            }
            return v.value().type() == ValueType.QWORD ? new Current(v.value().asQword(), v.revision()) : null;
        }, r.sequence());
        return new Index(versions, r.sequence());
    }

    /** The raw values under the type's key, {@code _metadata} included. */
    /** The key of this type's tombstones (multi-site stores). */
    RegistryPath tombstonesKey() {
        return key.child(StorageLayout.TOMBSTONES);
    }

    /** The tombstones of this type (only a site of a multi-site store has any), by id. */
    Map<String, VersionedValue> tombstones() {
        return read("read of the " + typeName + " tombstones", null, ReadBatch.of(new ReadBatch.ValuesRead(tombstonesKey())))
                .values(0).orElse(Map.of());
    }

    Map<String, VersionedValue> envelopes() {
        return read("read of all " + typeName + " entities", null, ReadBatch.of(new ReadBatch.ValuesRead(key)))
                .values(0).orElse(Map.of());
    }

    boolean exists(String id) {
        ReadBatchResult r = read("existence check of " + where(id), List.of(id), ReadBatch.of(versionRead(id)));
        Optional<VersionedValue> record = r.value(0);
        if (record.isEmpty() || record.get().value().type() == ValueType.QWORD) {
            seen(id, current(id, record), r.sequence());
        }
        return record.isPresent();
    }

    Current current(String id) {
        ReadBatchResult r = read("version read of " + where(id), List.of(id), ReadBatch.of(versionRead(id)));
        Current c = current(id, r.value(0));
        seen(id, c, r.sequence());
        return c;
    }

    /** The registry sequence of a read that found {@code id} absent; empty when it holds an entity. */
    OptionalLong absentAt(String id) {
        return allAbsentAt(List.of(id));
    }

    /**
     * The sequence a write of ours is visible at, if every entity's stored envelope is exactly the
     * one it wrote (an envelope carries its version, and an encrypted one its own nonce), all at one
     * revision (a batch commits at one sequence); empty otherwise. Settles a commit whose answer was lost.
     */
    OptionalLong landedAt(List<String> ids, IntFunction<byte[]> envelopeOf) {
        Map<String, Stored> now = get(ids).entities();
        long revision = -1;
        for (int i = 0; i < ids.size(); i++) {
            Stored stored = now.get(ids.get(i));
            if (stored == null || !Arrays.equals(stored.envelope(), envelopeOf.apply(i)) || (revision != -1 && stored.revision() != revision)) {
                return OptionalLong.empty();
            }
            revision = stored.revision();
        }
        return OptionalLong.of(revision);
    }

    /** The sequence of a read that found none of {@code ids}; empty when one of them is stored. */
    OptionalLong allAbsentAt(List<String> ids) {
        List<ReadBatch.Read> reads = new ArrayList<>(ids.size());
        ids.forEach(id -> reads.add(versionRead(id)));
        ReadBatchResult r = read(ids.size() == 1 ? "version read of " + where(ids.get(0)) : "version read of a " + typeName + " batch",
                ids, ReadBatch.of(reads));
        boolean absent = true;
        for (int i = 0; i < ids.size(); i++) {
            Current c = current(ids.get(i), r.value(i));
            seen(ids.get(i), c, r.sequence());
            absent &= c.version() == Versioned.ABSENT;
        }
        return absent ? OptionalLong.of(r.sequence()) : OptionalLong.empty();
    }

    /** The version records of {@code ids}, from one point in time, in their order. */
    List<Current> currents(List<String> ids) {
        List<ReadBatch.Read> reads = new ArrayList<>(ids.size());
        ids.forEach(id -> reads.add(versionRead(id)));
        ReadBatchResult r = read("version read of a " + typeName + " batch", ids, ReadBatch.of(reads));
        List<Current> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            out.add(current(ids.get(i), r.value(i)));
            seen(ids.get(i), out.get(i), r.sequence());
        }
        return out;
    }

    // ---- remembered versions ---------------------------------------------------------------

    /**
     * The version record of {@code id} as last read or committed through these records, or null.
     * A guess that saves a read before a write: every write conditions on the revision, so a
     * stale guess only makes its commit fail (and the writer read again), never win.
     */
    Current remembered(String id) {
        Seen s = remembered.get(id);
        return s == null ? null : s.current();
    }

    /** The version record of {@code id} as of sequence {@code at}; an older sighting never replaces a newer one. */
    void remember(String id, Current current, long at) {
        if (remembered.size() >= MAX_REMEMBERED) {
            remembered.clear();
        }
        remembered.merge(id, new Seen(current, at), (old, fresh) -> fresh.at() >= old.at() ? fresh : old);
    }

    /** A read found {@code current} as of sequence {@code at}. */
    /** What a read made elsewhere (a store at a site reads the whole entity state) found of a version record. */
    void learned(String id, Current current, long at) {
        seen(id, current, at);
    }

    private void seen(String id, Current current, long at) {
        remember(id, current, at);
        observer.seen(id, current, at);
    }

    void forget(String id) {
        remembered.remove(id);
    }

    ReadBatch.Read versionRead(String id) {
        return new ReadBatch.ValueRead(versionsKey, id);
    }

    Current current(String id, Optional<VersionedValue> record) {
        return record.map(v -> {
            if (v.value().type() != ValueType.QWORD) {
                throw new DataIntegrityException(where(id) + ": version record is " + v.value().type() + ", not QWORD");
            }
            return new Current(v.value().asQword(), v.revision());
        }).orElse(Current.ABSENT);
    }

    /** Checks the two values of an id belong together; null when the id holds no entity. */
    Stored stored(String id, Optional<VersionedValue> envelope, Optional<VersionedValue> version) {
        if (envelope.isEmpty() && version.isEmpty()) {
            return null;
        }
        String problem = mismatch(envelope, version);
        if (problem != null) {
            throw new DataIntegrityException(where(id) + ": " + problem);
        }
        return new Stored(envelope.get().value().unsafeData(), version.get().value().asQword(), version.get().revision());
    }

    /** Why an envelope and a version record do not make one entity; null when they do. */
    static String mismatch(Optional<VersionedValue> envelope, Optional<VersionedValue> version) {
        if (envelope.isEmpty() || version.isEmpty()) {
            return "the " + (envelope.isEmpty() ? "envelope" : "version record")
                    + " is missing while the other exists (they are only ever written together)";
        }
        VersionedValue e = envelope.get();
        VersionedValue v = version.get();
        if (e.value().type() != ValueType.BINARY || v.value().type() != ValueType.QWORD) {
            return "stored values have types " + e.value().type() + "/" + v.value().type() + ", expected BINARY/QWORD";
        }
        if (e.revision() != v.revision()) {
            return "the envelope (revision " + e.revision() + ") and the version record (revision " + v.revision()
                    + ") were not written together; the value was replaced outside the store";
        }
        return null;
    }

    /**
     * A read of this type's values. A value the registry cannot decode (written by something else
     * than the registry) is the entity's problem: {@link DataIntegrityException} naming type and id.
     * {@code ids} are the entities read (null: the whole type).
     */
    private ReadBatchResult read(String what, List<String> ids, ReadBatch batch) {
        return gateway.read(what, batch, onRetry, e -> undecodable(e, ids));
    }

    /**
     * Whose value {@code e} is: when several entities were read, they are read one at a time to
     * find it. Damage of the registry itself is returned unchanged, for the gateway to report as such.
     */
    RuntimeException undecodable(RegistryCorruptedException e, List<String> ids) {
        if (registryItselfDamaged()) {
            return e;
        }
        if (ids != null && ids.size() == 1) {
            return undecodable(ids.get(0), e);
        }
        return firstUndecodable(ids != null ? ids : storedIds()).orElseGet(() -> new DataIntegrityException("a value stored under "
                + key + " cannot be decoded by the registry, and it is no " + typeName + " entity's envelope or version record: "
                + e.getMessage(), e));
    }

    /** Whether a read of the layout version fails too, e.g. because the backend's own sequence is unreadable. */
    boolean registryItselfDamaged() {
        return gateway.undecodableIn(ReadBatch.of(new ReadBatch.ValueRead(layout.configuration(), StorageLayout.VERSION_VALUE))).isPresent();
    }

    /** The first of {@code ids} whose values the registry cannot decode, read one at a time. */
    Optional<DataIntegrityException> firstUndecodable(List<String> ids) {
        for (String id : ids) {
            Optional<RegistryCorruptedException> one = gateway.undecodableIn(ReadBatch.of(new ReadBatch.ValueRead(key, id), versionRead(id)));
            if (one.isPresent()) {
                return Optional.of(undecodable(id, one.get()));
            }
        }
        return Optional.empty();
    }

    private DataIntegrityException undecodable(String id, RegistryCorruptedException e) {
        return new DataIntegrityException(where(id) + ": a value stored for it cannot be decoded by the registry: " + e.getMessage(), e);
    }

    /** The ids this type's index or its envelopes name, from whichever of the two listings the registry can decode. */
    private List<String> storedIds() {
        TreeSet<String> ids = new TreeSet<>();
        for (RegistryPath listed : List.of(versionsKey, key)) {
            try {
                gateway.read("listing of " + listed, ReadBatch.of(new ReadBatch.ValuesRead(listed))).values(0)
                        .ifPresent(v -> ids.addAll(v.keySet()));
            } catch (RuntimeException undecodable) {
                // the other listing names them
            }
        }
        ids.remove(StorageLayout.METADATA);
        return new ArrayList<>(ids);
    }

    // ---- commands and conditions -------------------------------------------------------------

    /**
     * The conditions of every write of an entity: its version record is still the one read (or
     * still absent), and no prepared transaction holds its lock.
     */
    void requireUnchanged(WriteBatch.Builder b, String id, Current read) {
        if (read.version() == Versioned.ABSENT) {
            b.requireValueAbsent(versionsKey, id);
        } else {
            b.requireRevision(versionsKey, id, read.revision());
        }
        requireUnlocked(b, id);
    }

    void requireUnlocked(WriteBatch.Builder b, String id) {
        b.requireValueAbsent(locksKey, id);
    }

    /** Writes the envelope and the version record in the same batch. */
    void put(WriteBatch.Builder b, String id, long version, byte[] envelope) {
        b.setValue(key, id, RegistryValue.binary(envelope)).setValue(versionsKey, id, RegistryValue.qword(version));
    }

    void remove(WriteBatch.Builder b, String id) {
        b.deleteValue(key, id).deleteValue(versionsKey, id);
    }

    void lock(WriteBatch.Builder b, String id, RegistryValue holder) {
        b.setValue(locksKey, id, holder);
    }

    void unlock(WriteBatch.Builder b, String id) {
        b.deleteValue(locksKey, id);
    }

    /**
     * When a write of {@code id} failed on a lock condition of this type, the conflict to report,
     * naming the prepared transaction holding the entity; empty for any other failed condition.
     */
    Optional<ConcurrencyConflictException> lockConflict(ConditionFailedException lost, String id, long expectedVersion,
                                                        long currentVersion) {
        if (!(lost.failedCommand() instanceof BatchCommand.ValueAbsent a) || !a.key().equals(locksKey) || !a.name().equals(id)) {
            return Optional.empty();
        }
        return Optional.of(new ConcurrencyConflictException(typeName, id, expectedVersion, currentVersion,
                "locked by prepared transaction " + lockHolder(a.name()) + " until its coordinator commits or rolls it back"));
    }

    /** The transaction holding an entity's lock ({@code "(since released)"} when none does now). */
    private String lockHolder(String id) {
        return gateway.value("lock read", locksKey, id)
                .map(v -> v.value().type() == ValueType.SZ ? v.value().asSz() : "?").orElse("(since released)");
    }
}
