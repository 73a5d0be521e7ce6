package dev.reliablestore.cluster;

/**
 * What a hit in the local cache returns: option {@code cachedReads} for every store of a factory,
 * {@code cachedReads.<Type>} for one (docs/configuration.md; the rule: docs/cluster-registry-provider.md,
 * "Zero-copy cached reads").
 */
public enum CachedReads {
    /**
     * Default: the one cached instance when the entity type is deeply immutable (a record of values
     * and such records; collections only when the decoded instance holds unmodifiable ones), a
     * fresh copy otherwise.
     */
    AUTO,
    /** A fresh instance decoded from the cached bytes on every hit, whatever the type. */
    COPY,
    /**
     * The one instance decoded at the first hit, whatever the type: every reader gets the same
     * object, so no caller may ever mutate what it reads.
     */
    SHARE
}
