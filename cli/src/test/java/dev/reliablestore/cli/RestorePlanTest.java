package dev.reliablestore.cli;

import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;

import java.util.SortedMap;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** What restore writes for a snapshot: every key of it, the empty ones included, so the contents verify equal. */
class RestorePlanTest {

    @Test
    void anEmptyVersionsKeyLeftByDeletesIsRestoredToo() {
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(RegistryPath.of("Entities", "Order"), new TreeMap<>()); // every order deleted: the keys stay, empty
        keys.put(RegistryPath.of("Entities", "Order", "_versions"), new TreeMap<>());
        RegistryPath root = RegistryPath.of("RG", "Data");
        var batches = RestoreCommand.plan(new RegistrySnapshot(RegistryPath.root(), 3, keys), root, new RegistryLimits(1 << 20, 16 << 20, 10_000));
        assertThat(batches.stream().map(WriteBatch::commands).flatMap(java.util.List::stream)
                .filter(c -> c instanceof BatchCommand.CreateKey).map(c -> ((BatchCommand.CreateKey) c).key()))
                .contains(root.resolve(RegistryPath.of("Entities", "Order")), root.resolve(RegistryPath.of("Entities", "Order", "_versions")));
    }
}
