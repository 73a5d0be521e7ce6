package dev.reliablestore.cluster.backup;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Wtf8;

import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every key and value below a root as of one commit sequence, raw (types and wire bytes, so
 * encrypted values stay encrypted).
 *
 * <p>Taken with one registry read batch: the key tree is discovered first (key by key, which is not
 * atomic), then one batch reads the subkeys and values of every discovered key at one sequence. If
 * the subkey lists in that batch show the tree changed meanwhile (a type was added or removed), the
 * tree is discovered again and the batch repeated; the result is therefore always the state of one
 * instant.
 *
 * @param root     the root, absolute in the registry
 * @param sequence the commit sequence the snapshot shows
 * @param keys     every key (relative to root; the root itself is the empty path) with its values
 */
public record RegistrySnapshot(RegistryPath root, long sequence, SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys) {

    static final int MAX_ATTEMPTS = 20;

    /**
     * Which store this is, as long as it is the same store: 16 hex digits of a hash of its key salt
     * ({@code Configuration/KeySalt}, random when a factory first opens the root, and carried over by a
     * restore); empty when the root has none. A store created anew at the same URI and root (a volume
     * that was not mounted, two hosts with the same local path) has another one.
     */
    public Optional<String> storeId() {
        SortedMap<String, RegistryValue> cfg = keys.get(RegistryPath.of(dev.reliablestore.cluster.StorageLayout.CONFIGURATION));
        RegistryValue salt = cfg == null ? null : cfg.get(dev.reliablestore.cluster.StorageLayout.KEY_SALT_VALUE);
        if (salt == null) {
            return Optional.empty();
        }
        return Optional.of(java.util.HexFormat.of().formatHex(BackupFile.sha256().digest(salt.unsafeData()), 0, 8));
    }

    /**
     * Takes a snapshot of everything below {@code root} (empty when the root does not exist).
     *
     * @throws PersistenceException when the key tree kept changing between discovery and the read batch
     */
    public static RegistrySnapshot take(ClusterRegistry registry, RegistryPath root) {
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            List<RegistryPath> tree = discover(registry, root);
            if (tree.isEmpty()) {
                return new RegistrySnapshot(root, registry.currentSequence(), Collections.emptySortedMap());
            }
            List<ReadBatch.Read> reads = new ArrayList<>(2 * tree.size());
            for (RegistryPath k : tree) {
                reads.add(new ReadBatch.SubkeysRead(k));
                reads.add(new ReadBatch.ValuesRead(k));
            }
            ReadBatchResult r = registry.read(ReadBatch.of(reads));
            Optional<SortedMap<RegistryPath, SortedMap<String, RegistryValue>>> consistent = collect(root, tree, r);
            if (consistent.isPresent()) {
                return new RegistrySnapshot(root, r.sequence(), Collections.unmodifiableSortedMap(consistent.get()));
            }
        }
        throw new PersistenceException("the key tree under " + root + " in " + registry.uri() + " kept changing; no consistent snapshot after "
                + MAX_ATTEMPTS + " attempts");
    }

    /** Every key at or below root, parents first; empty when the root does not exist. */
    private static List<RegistryPath> discover(ClusterRegistry registry, RegistryPath root) {
        List<RegistryPath> found = new ArrayList<>();
        Deque<RegistryPath> todo = new ArrayDeque<>();
        todo.add(root);
        while (!todo.isEmpty()) {
            RegistryPath k = todo.poll();
            try {
                for (String child : registry.subkeys(k)) {
                    todo.add(k.child(child));
                }
                found.add(k);
            } catch (NoSuchKeyException vanished) {
                // deleted meanwhile: the read batch decides what the snapshot shows
            }
        }
        return found;
    }

    /** The batch's answers, or empty when they show a tree other than the one discovered. */
    private static Optional<SortedMap<RegistryPath, SortedMap<String, RegistryValue>>> collect(
            RegistryPath root, List<RegistryPath> tree, ReadBatchResult r) {
        TreeSet<RegistryPath> known = new TreeSet<>(tree);
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        for (int i = 0; i < tree.size(); i++) {
            RegistryPath k = tree.get(i);
            Optional<List<String>> children = r.subkeys(2 * i);
            Optional<Map<String, VersionedValue>> values = r.values(2 * i + 1);
            if (children.isEmpty() || values.isEmpty()) {
                return Optional.empty(); // the key was deleted after discovery
            }
            for (String child : children.get()) {
                if (!known.contains(k.child(child))) {
                    return Optional.empty(); // a key was created after discovery
                }
            }
            SortedMap<String, RegistryValue> v = new TreeMap<>();
            values.get().forEach((name, value) -> v.put(name, value.value()));
            keys.put(relative(root, k), Collections.unmodifiableSortedMap(v));
        }
        // a discovered key whose parent no longer lists it was deleted and re-created elsewhere: covered above
        return Optional.of(keys);
    }

    /** {@code key} relative to {@code root}. */
    public static RegistryPath relative(RegistryPath root, RegistryPath key) {
        return RegistryPath.of(key.segments().subList(root.depth(), key.depth()));
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    public long valueCount() {
        return keys.values().stream().mapToLong(Map::size).sum();
    }

    /** Entities per type: the version records under Entities/&lt;Type&gt;/_versions. */
    public SortedMap<String, Long> entityCounts() {
        SortedMap<String, Long> counts = new TreeMap<>();
        keys.forEach((k, values) -> {
            List<String> s = k.segments();
            if (s.size() == 2 && s.get(0).equals(StorageLayout.ENTITIES)) {
                counts.putIfAbsent(s.get(1), 0L);
            }
            if (s.size() == 3 && s.get(0).equals(StorageLayout.ENTITIES) && s.get(2).equals(StorageLayout.VERSIONS)) {
                counts.put(s.get(1), (long) values.size());
            }
        });
        return counts;
    }

    /** SHA-256 over every key, value name, type and bytes, in order: equal digests mean equal contents. */
    public String contentDigest() {
        MessageDigest d = BackupFile.sha256();
        keys.forEach((k, values) -> {
            update(d, "K" + k);
            values.forEach((name, v) -> {
                update(d, "V" + name);
                update(d, v.type().name() + "#" + v.size());
                d.update(v.unsafeData());
            });
        });
        return HexFormat.of().formatHex(d.digest());
    }

    private static void update(MessageDigest d, String s) {
        byte[] b = Wtf8.encode(s);
        d.update((byte) (b.length >>> 8));
        d.update((byte) b.length);
        d.update(b);
    }
}
