package dev.reliablestore.registry;

/**
 * A replaying watch asked for history the registry no longer keeps: batches after
 * {@link #requestedAfter()} up to {@link #replayableAfter()} were dropped by the backend's
 * {@code feedRetention}. What was derived from the feed must be rebuilt from the registry's current
 * content (a full comparison), after which a watch from {@link ClusterRegistry#currentSequence()}
 * continues. Nothing was registered.
 */
public class FeedHistoryUnavailableException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final long requestedAfter;
    private final long replayableAfter;

    public FeedHistoryUnavailableException(long requestedAfter, long replayableAfter, String retention) {
        super("the change feed cannot be replayed after sequence " + requestedAfter + ": history is retained only after sequence "
                + replayableAfter + " (" + retention + ")");
        this.requestedAfter = requestedAfter;
        this.replayableAfter = replayableAfter;
    }

    /** The checkpoint the caller asked to resume after. */
    public long requestedAfter() {
        return requestedAfter;
    }

    /** The oldest checkpoint the registry could replay from when the watch was refused. */
    public long replayableAfter() {
        return replayableAfter;
    }
}
