package dev.reliablestore.cluster.geo;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The replicated state of entities as one site stores them: an entity is its envelope with its
 * version record, or its tombstone, or nothing; the stamp travels inside the envelope
 * ({@link SiteEnvelopes}). Reads a state and writes one, the write conditioned on the state read
 * being still there and on no prepared transaction holding the entity.
 */
final class EntityStates {

    /** Reads per entity in {@link #reads}. */
    static final int READS = 4;
    private static final byte[] NO_JSON = new byte[0];

    /**
     * What a site holds of an entity.
     *
     * @param state     the state, null if the entity never existed there
     * @param version   its version record, empty when it is deleted or never existed
     * @param tombstone its tombstone, empty unless it is deleted
     */
    record Current(SiteState state, Optional<VersionedValue> version, Optional<VersionedValue> tombstone) {
    }

    private final StorageLayout layout;
    private final RegistryPath locks;
    private final SiteEnvelopes envelopes;
    private final String site;

    /**
     * @param locks     the site's key of entity locks ({@code <root>/Transactions/Locks}: one subkey per type)
     * @param envelopes the site's envelopes
     */
    EntityStates(StorageLayout layout, RegistryPath locks, SiteEnvelopes envelopes, String site) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.locks = Objects.requireNonNull(locks, "locks");
        this.envelopes = Objects.requireNonNull(envelopes, "envelopes");
        this.site = ShipmentLedger.requireSiteName(site);
    }

    String site() {
        return site;
    }

    StorageLayout layout() {
        return layout;
    }

    SiteEnvelopes envelopes() {
        return envelopes;
    }

    RegistryPath locks() {
        return locks;
    }

    /** The entity types {@code registry} (this site's) holds, sorted. */
    List<String> types(ClusterRegistry registry) {
        try {
            return registry.subkeys(layout.entities());
        } catch (NoSuchKeyException none) {
            return List.of();
        }
    }

    /** The {@link #READS} reads that {@link #current} needs, to be answered together in one read batch. */
    List<ReadBatch.Read> reads(String type, String id) {
        return List.of(new ReadBatch.ValueRead(layout.type(type), id), new ReadBatch.ValueRead(layout.versions(type), id),
                new ReadBatch.ValueRead(layout.tombstones(type), id), new ReadBatch.ValueRead(locks.child(type), id));
    }

    /** The entity's state from the answers of its {@link #reads}, starting at {@code offset}. */
    Current current(String type, String id, ReadBatchResult r, int offset) {
        Optional<VersionedValue> envelope = r.value(offset);
        Optional<VersionedValue> version = r.value(offset + 1);
        Optional<VersionedValue> tombstone = r.value(offset + 2);
        SiteState state = null;
        if (version.isPresent()) {
            byte[] bytes = envelope.map(v -> v.value().asBinary()).orElseThrow(() -> new IllegalStateException(
                    "site " + site + " holds a version record of " + type + "/" + id + " without its value"));
            state = opened(type, id, version.get().value().asQword(), bytes);
        } else if (tombstone.isPresent()) {
            state = tombstone(type, id, tombstone.get().value().asBinary());
        }
        return new Current(state, version, tombstone);
    }

    /** The state a stored envelope of this site holds; a value from before sites were configured is at time zero ({@link SiteState#unstamped}). */
    SiteState opened(String type, String id, long version, byte[] envelope) {
        SiteEnvelopes.Opened opened = envelopes.open(type, id, version, envelope);
        return opened.stamp() == null ? SiteState.unstamped(opened.json()) : stamped(opened.json(), opened.stamp(), type, id);
    }

    /** The state a stored tombstone of this site holds. */
    SiteState tombstone(String type, String id, byte[] sealed) {
        SiteEnvelopes.Opened opened = envelopes.open(type, id, StorageLayout.TOMBSTONE_VERSION, sealed);
        if (opened.stamp() == null || opened.json().length != 0) {
            throw new IllegalStateException("the tombstone of " + type + "/" + id + " at site " + site + " is not a stamped envelope without JSON");
        }
        return stamped(null, opened.stamp(), type, id);
    }

    private static SiteState stamped(byte[] json, byte[] stamp, String type, String id) {
        try {
            return SiteState.stamped(json, stamp);
        } catch (IllegalArgumentException bad) {
            throw new IllegalStateException("the stamp of " + type + "/" + id + " is unreadable: " + bad.getMessage(), bad);
        }
    }

    /**
     * Adds to {@code out} the commands that make this site hold {@code state} in place of
     * {@code current}: conditions that the version record and tombstone are still the ones read and
     * that no lock is held, then the envelope sealed at the next version (or the tombstone).
     * Returns what it sealed and at which version ({@link StorageLayout#TOMBSTONE_VERSION} for a tombstone).
     */
    Written write(List<BatchCommand> out, String type, String id, SiteState state, Current current) {
        return write(out, type, id, state, current, null);
    }

    /**
     * {@link #write}, by a transaction that holds the entity's lock: the condition is that the lock
     * holds {@code heldBy} (not that there is none), and the lock is removed in the same batch.
     *
     * @param heldBy the transaction's lock value, or null for a write that holds no lock
     */
    Written write(List<BatchCommand> out, String type, String id, SiteState state, Current current, RegistryValue heldBy) {
        RegistryPath typeKey = layout.type(type);
        RegistryPath versions = layout.versions(type);
        RegistryPath tombstones = layout.tombstones(type);
        out.add(current.version().<BatchCommand>map(v -> new BatchCommand.RevisionEquals(versions, id, v.revision()))
                .orElseGet(() -> new BatchCommand.ValueAbsent(versions, id)));
        out.add(current.tombstone().<BatchCommand>map(v -> new BatchCommand.RevisionEquals(tombstones, id, v.revision()))
                .orElseGet(() -> new BatchCommand.ValueAbsent(tombstones, id)));
        out.add(lockCondition(type, id, heldBy));
        if (heldBy != null) {
            out.add(new BatchCommand.DeleteValue(locks.child(type), id));
        }
        // a value from before sites keeps a stamp that sites still on an earlier build can read (a resync writes it)
        byte[] stamp = state.unstamped() ? SiteState.timeZeroStamp(site) : state.stamp();
        if (state.deleted()) {
            if (current.version().isPresent()) {
                out.add(new BatchCommand.DeleteValue(typeKey, id));
                out.add(new BatchCommand.DeleteValue(versions, id));
            }
            SiteEnvelopes.Sealed sealed = envelopes.seal(type, id, StorageLayout.TOMBSTONE_VERSION, NO_JSON, stamp);
            out.add(new BatchCommand.SetValue(tombstones, id, RegistryValue.binary(sealed.envelope())));
            return new Written(StorageLayout.TOMBSTONE_VERSION, sealed);
        } else {
            long next = current.version().map(v -> v.value().asQword()).orElse(0L) + 1;
            SiteEnvelopes.Sealed sealed = envelopes.seal(type, id, next, state.value(), stamp);
            out.add(new BatchCommand.SetValue(typeKey, id, RegistryValue.binary(sealed.envelope())));
            out.add(new BatchCommand.SetValue(versions, id, RegistryValue.qword(next)));
            if (current.tombstone().isPresent()) {
                out.add(new BatchCommand.DeleteValue(tombstones, id));
            }
            return new Written(next, sealed);
        }
    }

    /** No lock on the entity, or (with {@code heldBy}) the lock of the transaction that writes it. */
    BatchCommand lockCondition(String type, String id, RegistryValue heldBy) {
        return heldBy == null ? new BatchCommand.ValueAbsent(locks.child(type), id) : new BatchCommand.ValueEquals(locks.child(type), id, heldBy);
    }

    /** The key of a type's locks. */
    RegistryPath locksOf(String type) {
        return locks.child(type);
    }

    /** What {@link #write} stored: the version and the sealed envelope (or tombstone), with the sizes that went into it. */
    record Written(long version, SiteEnvelopes.Sealed sealed) {
    }
}
