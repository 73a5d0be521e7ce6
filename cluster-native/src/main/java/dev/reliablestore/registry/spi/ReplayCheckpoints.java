package dev.reliablestore.registry.spi;

import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.RegistryArgumentException;

/**
 * The checks every backend makes on a replaying watch's checkpoint (docs/registry-contract.md,
 * "Replaying from a checkpoint"), with one wording for all of them. Each backend calls them where
 * it knows the current sequence and the horizon of its history.
 */
public final class ReplayCheckpoints {

    private ReplayCheckpoints() {
    }

    /**
     * @param current  the registry's current sequence when the watch registers
     * @param registry what to name in the message (the registry's URI or directory)
     * @throws RegistryArgumentException the checkpoint is negative or beyond {@code current}
     */
    public static void requireReached(long afterSequence, long current, String registry) {
        if (afterSequence < 0) {
            throw new RegistryArgumentException("a replaying watch's checkpoint must be 0 or more, got " + afterSequence
                    + " (the current sequence of " + registry + " is " + current + ")");
        }
        if (afterSequence > current) {
            throw new RegistryArgumentException("a replaying watch's checkpoint " + afterSequence + " is beyond the current sequence "
                    + current + " of " + registry + ": a sequence this registry never reached (a checkpoint of another store, or this "
                    + "one restored from an older backup)");
        }
    }

    /**
     * @param replayableAfter the oldest checkpoint the backend's history still covers
     * @param retention       how long and how much history the backend keeps, for the message
     * @throws FeedHistoryUnavailableException the checkpoint is older than that
     */
    public static void requireRetained(long afterSequence, long replayableAfter, String retention) {
        if (afterSequence < replayableAfter) {
            throw new FeedHistoryUnavailableException(afterSequence, replayableAfter, retention);
        }
    }
}
