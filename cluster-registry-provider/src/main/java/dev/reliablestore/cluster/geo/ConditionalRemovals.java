package dev.reliablestore.cluster.geo;

import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.WriteBatch;

/**
 * Removes values that a collector read, each on the condition that it is still the one read, in
 * batches within the registry's limits (a condition and a delete per value). A batch one of whose
 * values was written again meanwhile removes nothing: the collector's next round looks again.
 * Used by the collectors of tombstones and conflict records; not thread-safe.
 */
final class ConditionalRemovals {

    private final ClusterRegistry registry;
    private final int perBatch;
    private WriteBatch.Builder batch = WriteBatch.builder();
    private int inBatch;
    private int removed;

    ConditionalRemovals(ClusterRegistry registry) {
        this.registry = registry;
        this.perBatch = Math.max(1, Math.min(256, registry.limits().maxBatchCommands() / 2));
    }

    /** Removes {@code key}/{@code name} if its revision is still {@code revision}. */
    void remove(RegistryPath key, String name, long revision) {
        batch.requireRevision(key, name, revision).deleteValue(key, name);
        if (++inBatch == perBatch) {
            flush();
        }
    }

    /** Commits what is pending; returns how many values were removed in all. */
    int finish() {
        flush();
        return removed;
    }

    private void flush() {
        if (inBatch == 0) {
            return;
        }
        try {
            registry.commit(batch.build());
            removed += inBatch;
        } catch (ConditionFailedException changed) {
            // one of them was written again meanwhile: the next round looks again
        }
        batch = WriteBatch.builder();
        inBatch = 0;
    }
}
