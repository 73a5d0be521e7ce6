package dev.reliablestore.api;

/** An entity (or a batch) is larger than the store accepts; nothing was written. */
public class EntityTooLargeException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    private final String id;
    private final long size;
    private final long limit;

    public EntityTooLargeException(String typeName, String id, long size, long limit) {
        super("entity " + typeName + "/" + id + " is " + size + " bytes once encoded; the limit is " + limit + " bytes");
        this.id = id;
        this.size = size;
        this.limit = limit;
    }

    private EntityTooLargeException(String message, long size, long limit) {
        super(message);
        this.id = null;
        this.size = size;
        this.limit = limit;
    }

    /** A whole batch is over the largest atomic write the store accepts. */
    public static EntityTooLargeException batch(String typeName, int entries, long size, long limit) {
        return new EntityTooLargeException("a batch of " + entries + " " + typeName + " entities is " + size
                + " bytes once encoded; the largest atomic batch is " + limit + " bytes", size, limit);
    }

    /** The id of the entity, or null when a whole batch was too large. */
    public String id() {
        return id;
    }

    /** The encoded size in bytes. */
    public long size() {
        return size;
    }

    /** The limit in bytes. */
    public long limit() {
        return limit;
    }
}
