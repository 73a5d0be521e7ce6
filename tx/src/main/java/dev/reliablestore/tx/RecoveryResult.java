package dev.reliablestore.tx;

import dev.reliablestore.spi.tx.TransactionId;

import java.util.List;
import java.util.Map;

/**
 * What {@link TransactionFactory#recover} did.
 *
 * @param committed  branches committed because the log held a commit decision
 * @param rolledBack branches rolled back because no decision was logged (presumed abort)
 * @param failed     branches that could not be finished now, with the reason; call recover again later
 * @param pendingDecisions logged transactions (ids as text) that still wait for a resource not
 *                   passed to this call, for a resource that could not list its branches, or for a
 *                   failed branch
 * @param unreachable resources (by resource manager id) that could not list their prepared
 *                   branches now, with the reason: theirs were not finished; call recover again later
 */
public record RecoveryResult(List<TransactionId> committed, List<TransactionId> rolledBack,
                             Map<TransactionId, String> failed, List<String> pendingDecisions,
                             Map<String, String> unreachable) {

    public RecoveryResult {
        committed = List.copyOf(committed);
        rolledBack = List.copyOf(rolledBack);
        failed = Map.copyOf(failed);
        pendingDecisions = List.copyOf(pendingDecisions);
        unreachable = Map.copyOf(unreachable);
    }

    /** A result with every resource reachable. */
    public RecoveryResult(List<TransactionId> committed, List<TransactionId> rolledBack,
                          Map<TransactionId, String> failed, List<String> pendingDecisions) {
        this(committed, rolledBack, failed, pendingDecisions, Map.of());
    }

    /** Whether everything in doubt was finished: nothing failed, no decision waits, every resource answered. */
    public boolean isClean() {
        return failed.isEmpty() && pendingDecisions.isEmpty() && unreachable.isEmpty();
    }
}
