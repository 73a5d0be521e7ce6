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

    BatchTooLargeException(String typeName, int entries, long commands, long maxCommands) {
        super(typeName, null, commands, maxCommands);
        this.message = "a batch of " + entries + " " + typeName + " entities needs " + commands
                + " registry commands (3 per entity); the largest atomic batch is " + maxCommands
                + " commands, i.e. " + (maxCommands / 3) + " entities";
    }

    @Override
    public String getMessage() {
        return message;
    }
}
