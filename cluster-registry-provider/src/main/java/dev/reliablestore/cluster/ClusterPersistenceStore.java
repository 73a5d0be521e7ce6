package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.ObservableStore;

import java.util.List;
import java.util.Map;

/**
 * A store of the cluster-registry provider: an {@link EntityStore} that also reports cluster events
 * ({@link ObservableStore}) and offers the key-rotation operations. Obtain one with
 * {@code factory.store(type).unwrap(ClusterPersistenceStore.class)}.
 *
 * @param <T> the entity type
 */
public interface ClusterPersistenceStore<T> extends EntityStore<T>, ObservableStore {

    /**
     * Rewrites every entity of this type that is encrypted with another key than the active one under
     * the active key, keeping its version; each rewrite is conditional on the value not having changed
     * meanwhile (a value changed concurrently is already under the active key). Not atomic across
     * entities; safe to run again. A site of a multi-site store also rewrites its tombstones, and values
     * and tombstones keep their cross-site stamps. Values stored in clear are left as they are (see
     * {@link #encryptValuesInClear()}).
     *
     * @return how many values (and tombstones) were rewritten
     * @throws IllegalStateException when encryption is not enabled
     * @throws dev.reliablestore.api.PersistenceException with {@code outcomeUnknown()} true and an
     *         {@code EntityTooLargeException} as its cause, for a value larger than the registry takes
     *         once sealed (it stays as it was), after every other value was rewritten
     */
    long reencrypt();

    /**
     * Encrypts under the active key every entity (and tombstone) of this type stored in clear, keeping
     * its version, as {@link #reencrypt()} rewrites: for a store whose encryption was switched on after
     * values were written. While encryption is on, a value in clear fails to read; it cannot be told
     * from a value planted in clear by someone who can write the registry but holds no key, and this
     * call makes every such value authentic. So make it once, right after switching encryption on, or
     * after checking the values {@link #keyUsage()} counts under {@code ""}. The type's zstd dictionaries stored in
     * clear (read for the values that use them, never used for new ones while in clear) are sealed too.
     *
     * @return how many values (and tombstones) were encrypted
     * @throws IllegalStateException when encryption is not enabled
     * @throws dev.reliablestore.api.PersistenceException as {@link #reencrypt()}; also with {@code outcomeUnknown()} true
     *         when one of the type's dictionaries in clear could not be sealed, after every value was encrypted (it stays
     *         in clear, counted by {@link #keyUsage()} under {@code ""}, until a call that seals it)
     */
    long encryptValuesInClear();

    /**
     * How many stored values of this type (and tombstones and owed merges, at a site of a multi-site
     * store, the type's zstd dictionaries and prepared transactions' writes) each key id protects;
     * unencrypted ones are counted under {@code ""}.
     * Reads headers only, never decrypts.
     */
    Map<String, Long> keyUsage();

    /** This store's value pipeline. */
    ValueCodec<T> codec();

    /**
     * Reads without versions, answered by the {@code preferredSite} of a multi-site store while it
     * can be reached, else by the local site (see {@link PreferredReads}).
     */
    PreferredReads<T> preferredReads();

    /**
     * The conflict records this store's site keeps of its type — conflicts between sites it
     * settled while {@code crossSiteConflicts} was {@code ConflictRecord}, until
     * {@code conflictResolutionWindow} has passed since each — oldest settled first. Records are
     * read from the local site's registry at each call and opened with the store's keys.
     *
     * @throws IllegalStateException the store is not configured with sites
     * @throws dev.reliablestore.api.DataIntegrityException a record is damaged, forged, or sealed with a key no longer configured
     */
    List<ConflictRecord> conflictRecords();
}
