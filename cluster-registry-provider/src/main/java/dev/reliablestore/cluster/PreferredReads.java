package dev.reliablestore.cluster;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads of a store that return no version, so that another site may answer them: the
 * {@code preferredSite} of a multi-site store (docs/geo-replication.md, Reads). They may be stale
 * relative to this site's own writes, and they carry no version because a version of another site
 * means nothing here: a read whose version will be written back is one of the store's own reads,
 * which the local site answers. While the preferred site cannot be reached (not opened yet, or a
 * read found it unreachable in the last second), the local site answers. Without sites, or with
 * the local site preferred, the local site answers every read. Obtain with
 * {@link ClusterPersistenceStore#preferredReads()}.
 *
 * @param <T> the entity type
 */
public interface PreferredReads<T> {

    /** The site that answers a read made now; empty for a store without sites (its registry answers). */
    Optional<String> site();

    /** The entity stored under {@code id}, or empty. */
    Optional<T> get(String id);

    /**
     * The entities stored under {@code ids} (absent ones left out), in the order of {@code ids}: from one
     * read of the answering site's registry, except that with the local cache on, the local site answers
     * the ids its cache holds from it, so the result may combine states of different moments
     * (docs/cluster-registry-provider.md, "Local cache").
     */
    Map<String, T> getMany(Collection<String> ids);

    /** Every entity of the type, in id order. */
    List<T> getAll();

    /** Whether an entity is stored under {@code id}. */
    boolean exists(String id);

    /** How many entities of the type are stored. */
    long count();
}
