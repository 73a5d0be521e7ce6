package dev.reliablestore.registry;

/**
 * A condition of a write batch did not hold when the batch was committed; no command of the batch
 * was applied. Mirrors the {@code failedCommandNumber} of {@code ClusterRegCloseBatch}.
 */
public class ConditionFailedException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final int failedCommandIndex;
    private final transient BatchCommand failedCommand;

    public ConditionFailedException(int failedCommandIndex, BatchCommand failedCommand) {
        super("batch condition " + failedCommandIndex + " failed: " + failedCommand + "; nothing was applied");
        this.failedCommandIndex = failedCommandIndex;
        this.failedCommand = failedCommand;
    }

    /** The 0-based index of the failed condition in {@link WriteBatch#commands()}. */
    public int failedCommandIndex() {
        return failedCommandIndex;
    }

    /** The condition that failed. */
    public BatchCommand failedCommand() {
        return failedCommand;
    }
}
