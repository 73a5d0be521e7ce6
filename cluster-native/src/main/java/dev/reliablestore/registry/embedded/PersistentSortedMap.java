package dev.reliablestore.registry.embedded;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * An immutable map from String to V sorted by {@link String#compareTo}, as a path-copying AVL tree:
 * an update copies O(log n) nodes and shares the rest, so readers can keep using an old version
 * without locks while a writer builds the next one. {@code null} is the empty map.
 */
final class PersistentSortedMap {

    private PersistentSortedMap() {
    }

    /** One tree node; a {@code null} node is the empty map. */
    static final class Node<V> {
        final String key;
        final V value;
        final Node<V> left;
        final Node<V> right;
        final int height;
        final int size;

        Node(String key, V value, Node<V> left, Node<V> right) {
            this.key = key;
            this.value = value;
            this.left = left;
            this.right = right;
            this.height = Math.max(height(left), height(right)) + 1;
            this.size = size(left) + size(right) + 1;
        }
    }

    static int size(Node<?> n) {
        return n == null ? 0 : n.size;
    }

    private static int height(Node<?> n) {
        return n == null ? 0 : n.height;
    }

    static <V> V get(Node<V> n, String key) {
        while (n != null) {
            int c = key.compareTo(n.key);
            if (c == 0) {
                return n.value;
            }
            n = c < 0 ? n.left : n.right;
        }
        return null;
    }

    static <V> Node<V> put(Node<V> n, String key, V value) {
        if (n == null) {
            return new Node<>(key, value, null, null);
        }
        int c = key.compareTo(n.key);
        if (c == 0) {
            return n.value == value ? n : new Node<>(n.key, value, n.left, n.right);
        }
        if (c < 0) {
            return balance(n.key, n.value, put(n.left, key, value), n.right);
        }
        return balance(n.key, n.value, n.left, put(n.right, key, value));
    }

    static <V> Node<V> remove(Node<V> n, String key) {
        if (n == null) {
            return null;
        }
        int c = key.compareTo(n.key);
        if (c < 0) {
            Node<V> l = remove(n.left, key);
            return l == n.left ? n : balance(n.key, n.value, l, n.right);
        }
        if (c > 0) {
            Node<V> r = remove(n.right, key);
            return r == n.right ? n : balance(n.key, n.value, n.left, r);
        }
        if (n.left == null) {
            return n.right;
        }
        if (n.right == null) {
            return n.left;
        }
        Node<V> min = n.right;
        while (min.left != null) {
            min = min.left;
        }
        return balance(min.key, min.value, n.left, removeMin(n.right));
    }

    private static <V> Node<V> removeMin(Node<V> n) {
        if (n.left == null) {
            return n.right;
        }
        return balance(n.key, n.value, removeMin(n.left), n.right);
    }

    private static <V> Node<V> balance(String key, V value, Node<V> l, Node<V> r) {
        int hl = height(l);
        int hr = height(r);
        if (hl > hr + 1) {
            if (height(l.left) >= height(l.right)) {
                return new Node<>(l.key, l.value, l.left, new Node<>(key, value, l.right, r));
            }
            return new Node<>(l.right.key, l.right.value, new Node<>(l.key, l.value, l.left, l.right.left),
                    new Node<>(key, value, l.right.right, r));
        }
        if (hr > hl + 1) {
            if (height(r.right) >= height(r.left)) {
                return new Node<>(r.key, r.value, new Node<>(key, value, l, r.left), r.right);
            }
            return new Node<>(r.left.key, r.left.value, new Node<>(key, value, l, r.left.left),
                    new Node<>(r.key, r.value, r.left.right, r.right));
        }
        return new Node<>(key, value, l, r);
    }

    /** Calls {@code action} for every entry in key order. */
    static <V> void forEach(Node<V> n, BiConsumer<String, V> action) {
        if (n == null) {
            return;
        }
        forEach(n.left, action);
        action.accept(n.key, n.value);
        forEach(n.right, action);
    }

    static List<String> keys(Node<?> n) {
        List<String> out = new ArrayList<>(size(n));
        forEach(n, (k, v) -> out.add(k));
        return out;
    }

    /** A balanced tree of entries already sorted by key without duplicates, in O(n). */
    static <V> Node<V> fromSorted(List<String> keys, List<V> values) {
        return build(keys, values, 0, keys.size());
    }

    private static <V> Node<V> build(List<String> keys, List<V> values, int from, int to) {
        if (from >= to) {
            return null;
        }
        int mid = (from + to) >>> 1;
        return new Node<>(keys.get(mid), values.get(mid), build(keys, values, from, mid), build(keys, values, mid + 1, to));
    }
}
