package dev.reliablestore.cluster.backup;

import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Names with an unpaired surrogate (legal ids and registry names) survive a backup exactly: UTF-8
 * would turn {@code "a\uD800"} into {@code "a?"}, renaming the entity on restore and merging it with a
 * real {@code "a?"}.
 */
class BackupNamesTest {

    @TempDir
    Path dir;

    @Test
    void namesWithUnpairedSurrogatesRoundTripExactly() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        RegistryPath key = RegistryPath.of("Store", "Entities", "Order\uDC00");
        SortedMap<String, RegistryValue> values = new TreeMap<>();
        values.put("a\uD800", RegistryValue.qword(1));
        values.put("a?", RegistryValue.qword(2));
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>();
        keys.put(key, values);
        RegistrySnapshot snapshot = new RegistrySnapshot(root, 7, keys);

        Path file = dir.resolve("names.rsbackup");
        BackupFile.write(file, snapshot, "embedded:test", "BackupNamesTest");
        RegistrySnapshot back = BackupFile.read(file).snapshot();
        assertThat(back.keys()).containsOnlyKeys(key);
        assertThat(back.keys().get(key)).containsEntry("a\uD800", RegistryValue.qword(1)).containsEntry("a?", RegistryValue.qword(2))
                .hasSize(2);
        assertThat(back.contentDigest()).isEqualTo(snapshot.contentDigest());
    }
}
