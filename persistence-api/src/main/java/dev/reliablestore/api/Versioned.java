package dev.reliablestore.api;

import java.util.Objects;

/**
 * An entity value with its id and stored version.
 *
 * @param id      the entity id
 * @param value   the entity
 * @param version the stored version, 1 or more
 */
public record Versioned<T>(String id, T value, long version) {

    /** The version of an id that holds no entity; as an expected version: "must not exist". */
    public static final long ABSENT = 0L;

    public Versioned {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(value, "value");
        if (version <= ABSENT) {
            throw new IllegalArgumentException("a stored version is 1 or more, got " + version);
        }
    }
}
