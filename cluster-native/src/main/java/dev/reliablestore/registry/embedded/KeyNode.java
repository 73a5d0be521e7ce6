package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.VersionedValue;

/**
 * An immutable key of the in-memory tree: its values and subkeys, each a {@link PersistentSortedMap}.
 * A change builds new nodes along one path and shares everything else with the previous version.
 */
final class KeyNode {

    static final KeyNode EMPTY = new KeyNode(null, null);

    final PersistentSortedMap.Node<KeyNode> children;
    final PersistentSortedMap.Node<VersionedValue> values;

    KeyNode(PersistentSortedMap.Node<KeyNode> children, PersistentSortedMap.Node<VersionedValue> values) {
        this.children = children;
        this.values = values;
    }

    KeyNode child(String name) {
        return PersistentSortedMap.get(children, name);
    }

    VersionedValue value(String name) {
        return PersistentSortedMap.get(values, name);
    }

    KeyNode withChild(String name, KeyNode child) {
        return new KeyNode(PersistentSortedMap.put(children, name, child), values);
    }

    KeyNode withoutChild(String name) {
        return new KeyNode(PersistentSortedMap.remove(children, name), values);
    }

    KeyNode withValue(String name, VersionedValue value) {
        return new KeyNode(children, PersistentSortedMap.put(values, name, value));
    }

    KeyNode withoutValue(String name) {
        return new KeyNode(children, PersistentSortedMap.remove(values, name));
    }
}
