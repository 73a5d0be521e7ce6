package dev.reliablestore.api;

/**
 * A write expected one version and found another; nothing was written.
 * {@link Versioned#ABSENT} as either version means "no entity".
 */
public class ConcurrencyConflictException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final String typeName;
    private final String id;
    private final long expectedVersion;
    private final long actualVersion;

    public ConcurrencyConflictException(String typeName, String id, long expectedVersion, long actualVersion) {
        this(typeName, id, expectedVersion, actualVersion, null);
    }

    public ConcurrencyConflictException(String typeName, String id, long expectedVersion, long actualVersion, String detail) {
        super("version conflict on " + typeName + "/" + id + ": expected " + describe(expectedVersion)
                + " but the store holds " + describe(actualVersion) + (detail == null ? "" : " (" + detail + ")"));
        this.typeName = typeName;
        this.id = id;
        this.expectedVersion = expectedVersion;
        this.actualVersion = actualVersion;
    }

    /** Same as {@link #ConcurrencyConflictException(String, String, long, long)} with the actual version unknown (-1). */
    public static ConcurrencyConflictException unknownActual(String typeName, String id, long expectedVersion, String detail) {
        return new ConcurrencyConflictException(typeName, id, expectedVersion, -1, detail);
    }

    private static String describe(long version) {
        if (version == Versioned.ABSENT) {
            return "no entity (version 0)";
        }
        if (version < 0) {
            return "an unknown version";
        }
        return "version " + version;
    }

    public String typeName() {
        return typeName;
    }

    public String id() {
        return id;
    }

    public long expectedVersion() {
        return expectedVersion;
    }

    /** The version found in the store, {@link Versioned#ABSENT} if none, or -1 when the store could not tell. */
    public long actualVersion() {
        return actualVersion;
    }
}
