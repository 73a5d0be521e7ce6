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

    private EntityTooLargeException(String message, long size, long limit, String id) {
        super(message);
        this.id = id;
        this.size = size;
        this.limit = limit;
    }

    /**
     * An entity whose serialized form (its JSON, before compression and encryption) is larger than
     * the largest document the store encodes at all; {@link #size()} and {@link #limit()} are then
     * that form's size and that bound.
     */
    public static EntityTooLargeException beforeEncoding(String typeName, String id, long size, long limit) {
        return new EntityTooLargeException("entity " + typeName + "/" + id + " is " + size + " bytes serialized, before"
                + " compression and encryption; the largest document the store encodes is " + limit + " bytes", size, limit, id);
    }

    /** A whole batch is over the largest atomic write the store accepts. */
    public static EntityTooLargeException batch(String typeName, int entries, long size, long limit) {
        return new EntityTooLargeException("a batch of " + entries + " " + typeName + " entities is " + size
                + " bytes once encoded; the largest atomic batch is " + limit + " bytes", size, limit, null);
    }

    /** The id of the entity, or null when a whole batch was too large. */
    public String id() {
        return id;
    }

    /** The size in bytes: encoded, or serialized for {@link #beforeEncoding}. */
    public long size() {
        return size;
    }

    /** The limit in bytes that {@link #size()} is over. */
    public long limit() {
        return limit;
    }
}
