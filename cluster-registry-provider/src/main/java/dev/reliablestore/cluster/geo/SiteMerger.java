package dev.reliablestore.cluster.geo;

/**
 * Merges the losing write of a cross-site conflict into what a site holds ({@code crossSiteConflicts
 * = Merge}): the provider's seam to the store's {@code ConflictResolver} and entity codec, by type
 * name. Not an API for applications.
 */
public interface SiteMerger {

    /**
     * The merge of {@code lost} into {@code stored}, as JSON, or {@code null} when this process
     * cannot merge {@code type} (no store of it is open and no resolver is registered for a class
     * of that simple name): the merge then waits for a process that can.
     *
     * @param stored        the JSON the site holds
     * @param storedVersion its version there
     * @param lost          the JSON of the write that lost
     */
    byte[] merge(String type, String id, byte[] stored, long storedVersion, byte[] lost);
}
