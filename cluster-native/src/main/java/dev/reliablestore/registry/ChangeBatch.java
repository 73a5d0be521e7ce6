package dev.reliablestore.registry;

import java.util.List;

/**
 * The part of one committed write batch that falls inside a watched subtree, with the batch's
 * commit sequence. A batch that changed nothing inside the subtree is not delivered.
 */
public record ChangeBatch(long sequence, List<Change> changes) {

    public ChangeBatch {
        changes = List.copyOf(changes);
    }
}
