package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.VersionedValue;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads and batch application on the immutable tree. Application is a pure function of the old
 * root, the commands and the sequence, so a live commit and a log replay give the same tree.
 */
final class TreeOps {

    private TreeOps() {
    }

    /** The node at {@code path}, or null. */
    static KeyNode find(KeyNode root, RegistryPath path) {
        List<String> segments = path.segments();
        KeyNode n = root;
        for (int i = 0, size = segments.size(); i < size && n != null; i++) {
            n = n.child(segments.get(i));
        }
        return n;
    }

    static VersionedValue value(KeyNode root, RegistryPath key, String name) {
        KeyNode n = find(root, key);
        return n == null ? null : n.value(name);
    }

    /** The outcome of applying a batch: the new root and what changed, in command order. */
    record Applied(KeyNode root, List<Change> changes) {
    }

    /**
     * Applies the commands in order, checking each condition against the state the commands before
     * it left. Values set get revision {@code sequence}.
     *
     * @throws ConditionFailedException naming the first false condition; nothing is applied
     */
    static Applied apply(KeyNode root, List<BatchCommand> commands, long sequence) {
        List<Change> changes = new ArrayList<>(commands.size() + 2);
        KeyNode r = root;
        for (int i = 0, size = commands.size(); i < size; i++) {
            BatchCommand c = commands.get(i);
            if (c instanceof BatchCommand.Condition condition) {
                if (!holds(r, condition)) {
                    throw new ConditionFailedException(i, c);
                }
            } else {
                r = mutate(r, (BatchCommand.Mutation) c, sequence, changes);
            }
        }
        return new Applied(r, changes);
    }

    static boolean holds(KeyNode root, BatchCommand.Condition c) {
        if (c instanceof BatchCommand.ValueExists v) {
            return value(root, v.key(), v.name()) != null;
        } else if (c instanceof BatchCommand.ValueAbsent v) {
            return value(root, v.key(), v.name()) == null;
        } else if (c instanceof BatchCommand.ValueEquals v) {
            VersionedValue got = value(root, v.key(), v.name());
            return got != null && got.value().equals(v.expected());
        } else if (c instanceof BatchCommand.RevisionEquals v) {
            VersionedValue got = value(root, v.key(), v.name());
            return got != null && got.revision() == v.revision();
        } else if (c instanceof BatchCommand.KeyExists k) {
            return find(root, k.key()) != null;
        } else if (c instanceof BatchCommand.KeyAbsent k) {
            return find(root, k.key()) == null;
        }
        throw new IllegalArgumentException("unknown condition " + c.getClass().getName());
    }

    static KeyNode mutate(KeyNode root, BatchCommand.Mutation m, long sequence, List<Change> changes) {
        if (m instanceof BatchCommand.SetValue s) {
            VersionedValue vv = new VersionedValue(s.value(), sequence);
            KeyNode r = update(root, s.key(), 0, n -> n.withValue(s.name(), vv), changes);
            changes.add(new Change.ValueSet(s.key(), s.name(), vv));
            return r;
        } else if (m instanceof BatchCommand.CreateKey k) {
            if (find(root, k.key()) != null) {
                return root;
            }
            return update(root, k.key(), 0, n -> n, changes);
        } else if (m instanceof BatchCommand.DeleteValue d) {
            if (value(root, d.key(), d.name()) == null) {
                return root;
            }
            KeyNode r = update(root, d.key(), 0, n -> n.withoutValue(d.name()), changes);
            changes.add(new Change.ValueDeleted(d.key(), d.name()));
            return r;
        } else if (m instanceof BatchCommand.DeleteKey d) {
            if (find(root, d.key()) == null) {
                return root;
            }
            RegistryPath parent = d.key().parent();
            String name = d.key().name();
            KeyNode r = update(root, parent, 0, n -> n.withoutChild(name), changes);
            changes.add(new Change.KeyDeleted(d.key()));
            return r;
        }
        throw new IllegalArgumentException("unknown mutation " + m.getClass().getName());
    }

    private interface NodeChange {
        KeyNode apply(KeyNode n);
    }

    /**
     * Rebuilds the path from {@code node} (at depth {@code depth} of {@code key}) down to the key,
     * creating missing keys (recorded as {@link Change.KeyCreated}, ancestors first), and applies
     * {@code change} at the key.
     */
    private static KeyNode update(KeyNode node, RegistryPath key, int depth, NodeChange change, List<Change> changes) {
        List<String> segments = key.segments();
        if (depth == segments.size()) {
            return change.apply(node);
        }
        String name = segments.get(depth);
        KeyNode child = node.child(name);
        if (child == null) {
            child = KeyNode.EMPTY;
            changes.add(new Change.KeyCreated(depth + 1 == segments.size() ? key : RegistryPath.of(segments.subList(0, depth + 1))));
        }
        KeyNode updated = update(child, key, depth + 1, change, changes);
        return updated == child && node.child(name) != null ? node : node.withChild(name, updated);
    }
}
