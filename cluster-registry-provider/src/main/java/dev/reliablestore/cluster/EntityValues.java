package dev.reliablestore.cluster;

import dev.reliablestore.cluster.EntityRecords.Current;

import java.util.List;
import java.util.Map;

/**
 * The decoded values of one entity type (plain JSON with version and revision) as a store reads
 * them: {@link DecodedRecords} from the registry, or {@link CachedValues} with the local cache in
 * front of it. A store tells its values what it wrote and deleted, and (as its records' observer)
 * what its reads found, so that a cache can follow.
 */
interface EntityValues extends EntityRecords.Observer {

    /**
     * An entity's plain bytes (the codec's: JSON by default), its version and the registry revision of
     * its values; {@code cached} is the cache entry it was read from, null when it comes from the registry.
     */
    record Decoded(byte[] json, long version, long revision, SharedSlot cached) {
        Decoded(byte[] json, long version, long revision) {
            this(json, version, revision, null);
        }
    }

    /** Where the one decoded instance every reader of a cached value may share is kept: in its cache entry. */
    interface SharedSlot {

        /** The instance kept, or null before the first offer. */
        Object instance();

        /** Keeps {@code candidate} unless an instance is kept already; returns the one kept. */
        Object offer(Object candidate);
    }

    /** Values found by one read, and the registry sequence it was answered at. */
    record Found(Map<String, Decoded> values, long sequence) {
    }

    /** The values of those {@code ids} that hold an entity. */
    Found get(List<String> ids);

    /** Every entity of the type, in id order. */
    Found all();

    boolean exists(String id);

    /** The version record as known without a registry read; null when not known. */
    default Current known(String id) {
        return null;
    }

    /** The store committed {@code value} at registry sequence {@code sequence}. */
    default void written(String id, Decoded value, long sequence) {
    }

    /** The store deleted the entity by the commit at registry sequence {@code sequence} (or read it as absent there). */
    default void deleted(String id, long sequence) {
    }

    /** A write of {@code id} failed with its outcome unknown: nothing known of it may answer a read until the registry is read. */
    default void unsettled(String id) {
    }

    /** A clear failed with its outcome unknown: {@link #unsettled} for every id known. */
    default void unsettledAll() {
    }

    /** A read found {@code id}'s version record {@code current} as of registry sequence {@code sequence}. */
    @Override
    default void seen(String id, Current current, long sequence) {
    }

    /** The store removed every entity of the type, by commits (and reads) answered at or before {@code sequence}. */
    default void cleared(long sequence) {
    }

    /** Entries held locally (tests, metrics). */
    default long cachedEntries() {
        return 0;
    }

    default void close() {
    }
}
