package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.HealthFault;

/**
 * One immutable version of everything the registry holds: the key tree and the health faults as of
 * commit {@code sequence}. Readers take the published version with one volatile read.
 */
record TreeState(KeyNode root, long sequence, PersistentSortedMap.Node<HealthFault> faults) {

    static final TreeState EMPTY = new TreeState(KeyNode.EMPTY, 0, null);
}
