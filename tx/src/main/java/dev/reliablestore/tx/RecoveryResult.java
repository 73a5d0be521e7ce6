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
 *                   passed to this call, or for a failed branch
 */
public record RecoveryResult(List<TransactionId> committed, List<TransactionId> rolledBack,
                             Map<TransactionId, String> failed, List<String> pendingDecisions) {

    public RecoveryResult {
        committed = List.copyOf(committed);
        rolledBack = List.copyOf(rolledBack);
        failed = Map.copyOf(failed);
        pendingDecisions = List.copyOf(pendingDecisions);
    }
}
