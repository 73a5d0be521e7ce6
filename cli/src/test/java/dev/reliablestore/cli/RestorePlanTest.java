package dev.reliablestore.cli;

import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;

import java.util.SortedMap;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What restore writes for a snapshot: every key of it, the empty ones included, so the contents verify equal; and how it
 * deletes what the target held first.
 */
class RestorePlanTest {

    @Test
    void anEmptyVersionsKeyLeftByDeletesIsRestoredToo() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>()); // every order deleted: the keys stay, empty
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>());
        RegistryPath root = RegistryPath.of("RG", "Data");
        var batches = RestoreCommand.plan(new RegistrySnapshot(RegistryPath.root(), 3, keys), root, new RegistryLimits(1 << 20, 16 << 20, 10_000));
        assertThat(batches.stream().flatMap(java.util.List::stream).flatMap(java.util.List::stream)
                .filter(c -> c instanceof BatchCommand.CreateKey).map(c -> ((BatchCommand.CreateKey) c).key()))
                .contains(root.resolve(RegistryPath.of("Entities", "Order")), root.resolve(RegistryPath.of("Entities", "Order", "_versions")));
    }

    /** A store's keys and values, relative to its root: two entities, one version record without its envelope, configuration. */
    private static RegistrySnapshot held() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.root(), new TreeMap<>());
        keys.put(RegistryPath.of("Configuration"), new TreeMap<>(java.util.Map.of("layoutVersion", RegistryValue.dword(1))));
        keys.put(RegistryPath.of("Entities"), new TreeMap<>());
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.sz("e1"), "O-2", RegistryValue.sz("e2"))));
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.qword(1),
                "O-2", RegistryValue.qword(1), "O-3", RegistryValue.qword(4))));
        return new RegistrySnapshot(RegistryPath.root(), 9, keys);
    }

    /** {@link #held()} with the mark of a restore that did not finish, as a restore with --force finds it (its own written over it). */
    private static RegistrySnapshot heldWithMark() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>(held().keys());
        SortedMap<String, RegistryValue> configuration = new TreeMap<>(keys.get(RegistryPath.of("Configuration")));
        configuration.put("RestoreInProgress", RegistryValue.sz("{}"));
        keys.put(RegistryPath.of("Configuration"), configuration);
        return new RegistrySnapshot(RegistryPath.root(), 9, keys);
    }

    /** The restore's mark, and the root and Configuration keys it is under, are never deleted: what else they hold is. */
    @Test
    void deletionsKeepEntitiesWholeTheConfigurationLastAndEveryKeyAfterWhatIsBelowIt() {
        RegistryPath root = RegistryPath.of("RG", "Data");
        RegistryPath order = root.resolve(RegistryPath.of("Entities", "Order"));
        RegistryPath versions = order.child("_versions");
        // one group a batch: the limits are what a group takes
        var batches = RestoreCommand.deletions(heldWithMark(), root, new RegistryLimits(1 << 20, 1, 10_000));
        assertThat(batches).allSatisfy(b -> assertThat(b).hasSize(1));
        assertThat(batches.stream().map(b -> b.get(0))).containsExactly(
                java.util.List.of(new BatchCommand.DeleteValue(order, "O-1"), new BatchCommand.DeleteValue(versions, "O-1")),
                java.util.List.of(new BatchCommand.DeleteValue(order, "O-2"), new BatchCommand.DeleteValue(versions, "O-2")),
                java.util.List.of(new BatchCommand.DeleteValue(versions, "O-3")),
                java.util.List.of(new BatchCommand.DeleteValue(root.child("Configuration"), "layoutVersion")),
                java.util.List.of(new BatchCommand.DeleteKey(versions)),
                java.util.List.of(new BatchCommand.DeleteKey(order)),
                java.util.List.of(new BatchCommand.DeleteKey(root.child("Entities"))));
        // within the limits, batches hold as many groups as fit, in the same order
        var few = RestoreCommand.deletions(heldWithMark(), root, new RegistryLimits(1 << 20, 1 << 20, 3));
        assertThat(few).allSatisfy(b -> assertThat(b.stream().mapToInt(java.util.List::size).sum()).isLessThanOrEqualTo(3));
        assertThat(few.stream().flatMap(java.util.List::stream)).containsExactlyElementsOf(batches.stream().map(b -> b.get(0)).toList());
    }

    /** A type's descriptor sorts among its ids ('_' before lower case): it is deleted after all of them all the same. */
    @Test
    void aTypesDescriptorIsDeletedAfterEveryEntityOfTheType() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.root(), new TreeMap<>());
        keys.put(RegistryPath.of("Entities"), new TreeMap<>());
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.sz("e1"),
                "_metadata", RegistryValue.sz("{}"), "o-2", RegistryValue.sz("e2"))));
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.qword(1),
                "o-2", RegistryValue.qword(1))));
        RegistryPath root = RegistryPath.of("RG", "Data");
        RegistryPath order = root.resolve(RegistryPath.of("Entities", "Order"));
        var batches = RestoreCommand.deletions(new RegistrySnapshot(RegistryPath.root(), 3, keys), root, new RegistryLimits(1 << 20, 1, 10_000));
        assertThat(batches.stream().map(b -> b.get(0).get(0)).limit(3)).containsExactly(new BatchCommand.DeleteValue(order, "O-1"),
                new BatchCommand.DeleteValue(order, "o-2"), new BatchCommand.DeleteValue(order, "_metadata"));
    }

    /**
     * A type's descriptor sorts after ids that start with a digit or a capital: it is written before all of them all the
     * same, so a restore stopped part-way never leaves entities without it.
     */
    @Test
    void aTypesDescriptorIsWrittenBeforeEveryEntityOfTheType() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.root(), new TreeMap<>());
        keys.put(RegistryPath.of("Entities"), new TreeMap<>());
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.sz("e1"),
                "O-2", RegistryValue.sz("e2"), "_metadata", RegistryValue.sz("{}"))));
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>(java.util.Map.of("O-1", RegistryValue.qword(1),
                "O-2", RegistryValue.qword(1))));
        RegistryPath root = RegistryPath.of("RG", "Data");
        RegistryPath order = root.resolve(RegistryPath.of("Entities", "Order"));
        // one group a batch: the limits are what a group takes
        var batches = RestoreCommand.plan(new RegistrySnapshot(RegistryPath.root(), 3, keys), root, new RegistryLimits(1 << 20, 1, 10_000));
        int descriptor = indexOf(batches, c -> c instanceof BatchCommand.SetValue v && v.key().equals(order) && v.name().equals("_metadata"));
        int first = indexOf(batches, c -> c instanceof BatchCommand.SetValue v && v.key().equals(order) && v.name().equals("O-1"));
        int second = indexOf(batches, c -> c instanceof BatchCommand.SetValue v && v.key().equals(order) && v.name().equals("O-2"));
        assertThat(descriptor).as("batches %s", batches).isNotNegative().isLessThan(first);
        assertThat(first).isLessThan(second);
        // each envelope still shares its batch with its version record
        assertThat(batches.get(first).stream().flatMap(java.util.List::stream)).contains(new BatchCommand.SetValue(order.child("_versions"), "O-1", RegistryValue.qword(1)));
    }

    private static int indexOf(java.util.List<java.util.List<java.util.List<BatchCommand>>> batches,
                               java.util.function.Predicate<BatchCommand> holding) {
        for (int i = 0; i < batches.size(); i++) {
            if (batches.get(i).stream().flatMap(java.util.List::stream).anyMatch(holding)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void aDeleteBatchTheBackendFindsTooLargeGoesInHalves(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        RegistryPath root = RegistryPath.of("RG", "Data");
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir)) {
            WriteBatch.Builder write = WriteBatch.builder();
            held().keys().forEach((rel, values) -> {
                write.add(new BatchCommand.CreateKey(root.resolve(rel)));
                values.forEach((name, v) -> write.add(new BatchCommand.SetValue(root.resolve(rel), name, v)));
            });
            real.commit(write.build());
            // a backend whose requests take at most 3 commands, though its limits say more
            java.util.List<Integer> sent = new java.util.ArrayList<>();
            ClusterRegistry registry = (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                        if (method.getName().equals("commit") && ((WriteBatch) args[0]).size() > 3) {
                            throw new RegistryLimitException("too large", ((WriteBatch) args[0]).size(), 3);
                        }
                        if (method.getName().equals("commit")) {
                            sent.add(((WriteBatch) args[0]).size());
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            var batches = RestoreCommand.deletions(RegistrySnapshot.take(registry, root), root, new RegistryLimits(1 << 20, 1 << 20, 10_000));
            assertThat(batches).hasSize(1);
            RestoreCommand.Applied applied = new RestoreCommand.Applied(1);
            RestoreCommand.commit(registry, batches, applied, b -> { });
            // the root and its Configuration key stay (the restore's mark is there), emptied
            RegistrySnapshot left = RegistrySnapshot.take(real, root);
            assertThat(left.keys().keySet()).containsExactly(RegistryPath.root(), RegistryPath.of("Configuration"));
            assertThat(left.valueCount()).isZero();
            assertThat(sent).allMatch(n -> n <= 3).hasSize(applied.done);
            assertThat(applied.total).isEqualTo(applied.done);
            assertThat(applied.done).isGreaterThan(1);
        }
    }

    /** A registry that refuses, as too large with nothing sent, every batch of more than {@code maxCommands} commands. */
    private static ClusterRegistry refusingAbove(ClusterRegistry real, int maxCommands, java.util.List<WriteBatch> sent) {
        return (ClusterRegistry) java.lang.reflect.Proxy.newProxyInstance(RestorePlanTest.class.getClassLoader(),
                new Class<?>[] {ClusterRegistry.class}, (proxy, method, args) -> {
                    if (method.getName().equals("commit")) {
                        WriteBatch b = (WriteBatch) args[0];
                        if (b.size() > maxCommands) {
                            throw new RegistryLimitException("too large; nothing was sent", b.size(), maxCommands);
                        }
                        sent.add(b);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aWriteBatchTheBackendFindsTooLargeGoesInHalvesKeepingEachEntityWhole(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        RegistryPath root = RegistryPath.of("RG", "Data");
        RegistryPath order = root.resolve(RegistryPath.of("Entities", "Order"));
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir)) {
            java.util.List<WriteBatch> sent = new java.util.ArrayList<>();
            var batches = RestoreCommand.plan(held(), root, new RegistryLimits(1 << 20, 1 << 20, 10_000));
            assertThat(batches).hasSize(1);
            java.util.List<WriteBatch> committed = new java.util.ArrayList<>();
            RestoreCommand.Applied applied = new RestoreCommand.Applied(1);
            RestoreCommand.commit(refusingAbove(real, 3, sent), batches, applied, committed::add);
            assertThat(committed).isEqualTo(sent).allMatch(b -> b.size() <= 3).hasSize(applied.done);
            assertThat(applied.done).isGreaterThan(1).isEqualTo(applied.total);
            // every command, in the planned order; an envelope with its version record
            assertThat(sent.stream().flatMap(b -> b.commands().stream())).containsExactlyElementsOf(
                    batches.get(0).stream().flatMap(java.util.List::stream).toList());
            assertThat(sent).filteredOn(b -> b.commands().contains(new BatchCommand.SetValue(order, "O-1", RegistryValue.sz("e1"))))
                    .singleElement().satisfies(b -> assertThat(b.commands())
                            .contains(new BatchCommand.SetValue(order.child("_versions"), "O-1", RegistryValue.qword(1))));
            assertThat(RegistrySnapshot.take(real, root).keys()).isEqualTo(held().keys());
        }
    }

    /** An entity's envelope and version record go together or not at all: a backend that takes neither pair is reported. */
    @Test
    void anEntityTheBackendRefusesAloneIsReported(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        RegistryPath root = RegistryPath.of("RG", "Data");
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir)) {
            java.util.List<WriteBatch> sent = new java.util.ArrayList<>();
            var batches = RestoreCommand.plan(held(), root, new RegistryLimits(1 << 20, 1 << 20, 10_000));
            RestoreCommand.Applied applied = new RestoreCommand.Applied(batches.size());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> RestoreCommand.commit(refusingAbove(real, 1, sent), batches, applied, b -> { }))
                    .isInstanceOf(RegistryLimitException.class);
            assertThat(sent).allMatch(b -> b.size() == 1).hasSize(applied.done);
        }
    }

    /**
     * What restore replaces without --force: what opening an empty store writes (layout, key salt, type descriptors,
     * keys without values) and a type's dictionaries. Anything else is named by where it is.
     */
    @Test
    void onlyWhatOpeningAnEmptyStoreWritesCountsAsEmpty() {
        RegistryPath root = RegistryPath.of("RG", "Data");
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.root(), new TreeMap<>());
        keys.put(RegistryPath.of("Configuration"), new TreeMap<>(java.util.Map.of("Version", RegistryValue.dword(1),
                "Schema", RegistryValue.sz("…"), "KeySalt", RegistryValue.binary(new byte[16]))));
        keys.put(RegistryPath.of("Configuration", "Dictionaries", "Order"), new TreeMap<>(java.util.Map.of("1", RegistryValue.binary(new byte[8]))));
        keys.put(RegistryPath.of("Entities"), new TreeMap<>());
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>(java.util.Map.of("_metadata", RegistryValue.sz("{}"))));
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>());
        keys.put(RegistryPath.of("Transactions"), new TreeMap<>());
        assertThat(RestoreCommand.notAnEmptyStore(new RegistrySnapshot(RegistryPath.root(), 1, keys), root)).isEmpty();

        keys.put(RegistryPath.of("Entities", "Order", "_tombstones"), new TreeMap<>(java.util.Map.of("O-9", RegistryValue.sz("t"))));
        keys.put(RegistryPath.of("Transactions", "tx-1"), new TreeMap<>(java.util.Map.of("record", RegistryValue.sz("prepared"))));
        keys.put(RegistryPath.of("Nested", "Configuration"), new TreeMap<>(java.util.Map.of("Version", RegistryValue.dword(1))));
        keys.put(RegistryPath.of("Nested", "Entities", "Note"), new TreeMap<>(java.util.Map.of("N-1", RegistryValue.sz("n"))));
        keys.put(RegistryPath.of("Configuration"), new TreeMap<>(java.util.Map.of("Version", RegistryValue.dword(1),
                "RestoreInProgress", RegistryValue.sz("{\"host\":\"ops-1\"}"))));
        assertThat(RestoreCommand.notAnEmptyStore(new RegistrySnapshot(RegistryPath.root(), 1, keys), root)).containsExactly(
                "what a restore that did not finish left (started ? by ? on ops-1, from ?)",
                "1 tombstones of deleted entities {Order=1}",
                "2 values below RG/Data/Nested (another store: its root lies below this one)",
                "1 values below RG/Data/Transactions (prepared transaction records and their locks)");
    }
}
