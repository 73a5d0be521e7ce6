package dev.reliablestore.spi.tx;

import dev.reliablestore.api.Versioned;

import java.util.Objects;

/**
 * One buffered write of a branch, as a participant applies it: the net effect of everything the
 * branch did to one entity.
 *
 * @param typeName        the entity type
 * @param id              the entity id
 * @param value           the new value, or {@code null} for a delete
 * @param expectedVersion the version the entity must still have when the write is validated
 *                        ({@link Versioned#ABSENT}: it must not exist)
 */
public record PendingWrite(String typeName, String id, Object value, long expectedVersion) {

    public PendingWrite {
        Objects.requireNonNull(typeName, "typeName");
        Objects.requireNonNull(id, "id");
        if (expectedVersion < Versioned.ABSENT) {
            throw new IllegalArgumentException("expected version must be 0 or more, got " + expectedVersion);
        }
    }

    public boolean isDelete() {
        return value == null;
    }

    /** The version the entity has once the write is applied (for a save): expected + 1. */
    public long newVersion() {
        return expectedVersion + 1;
    }
}
