package dev.reliablestore.registry;

import java.util.Objects;

/**
 * A stored value with its revision. A revision is positive and is never given twice to the same
 * value path, not even after the value (or its key) is deleted and created again, so "revision
 * equals" is a safe optimistic-concurrency condition. Revisions of different paths are not
 * comparable with each other.
 */
public record VersionedValue(RegistryValue value, long revision) {

    public VersionedValue {
        Objects.requireNonNull(value, "value");
        if (revision <= 0) {
            throw new IllegalArgumentException("revision must be positive, got " + revision);
        }
    }
}
