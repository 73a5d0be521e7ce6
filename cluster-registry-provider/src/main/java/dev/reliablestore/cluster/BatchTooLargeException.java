package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityTooLargeException;

/**
 * A batch has more entries than the registry accepts in one atomic batch. The public type is
 * {@link EntityTooLargeException}; {@link #size()} and {@link #limit()} are then command counts,
 * which the message says.
 */
final class BatchTooLargeException extends EntityTooLargeException {

    private static final long serialVersionUID = 1L;

    private final String message;

    BatchTooLargeException(String typeName, int entries, int commandsPerEntity, long maxCommands) {
        super(typeName, null, (long) entries * commandsPerEntity, maxCommands);
        this.message = "a batch of " + entries + " " + typeName + " entities needs " + (long) entries * commandsPerEntity
                + " registry commands (" + commandsPerEntity + " per entity); the largest atomic batch is " + maxCommands
                + " commands, i.e. " + (maxCommands / commandsPerEntity) + " entities";
    }

    @Override
    public String getMessage() {
        return message;
    }
}
