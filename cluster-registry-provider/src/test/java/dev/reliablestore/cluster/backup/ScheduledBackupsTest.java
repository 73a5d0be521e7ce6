package dev.reliablestore.cluster.backup;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A scheduled run that fails, with an Error too, is retried at the next interval: the schedule never
 * ends by itself. Stores sharing a backup folder keep their own retention.
 */
class ScheduledBackupsTest {

    @TempDir
    Path dir;

    @Test
    void aRunThatFailsWithAnErrorIsRetriedAtTheNextInterval() {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of())) {
            real.commit(WriteBatch.builder().setValue(root.child("Entities"), "a", RegistryValue.qword(1)).build());
            AtomicBoolean failOnce = new AtomicBoolean(true);
            ClusterRegistry failing = (ClusterRegistry) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("status") && failOnce.getAndSet(false)) {
                            throw new OutOfMemoryError("simulated: the run held the whole store");
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (ScheduledBackups backups = ScheduledBackups.start(failing, root, "node-1", dir, Duration.ofHours(1), 3)) {
                assertThat(backups.runOnce()).as("the failed run").isNull();
                assertThat(backups.runOnce()).as("the next run").isNotNull().exists();
            }
        }
    }

    @Test
    void storesSharingABackupFolderNeverPruneEachOthersBackups() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        Path shared = dir.resolve("backups");
        try (ClusterRegistry a = ClusterRegistries.open("embedded:" + dir.resolve("a"), Map.of());
             ClusterRegistry b = ClusterRegistries.open("embedded:" + dir.resolve("b"), Map.of());
             ScheduledBackups backupsOfA = ScheduledBackups.start(a, root, "node-1", shared, Duration.ofHours(1), 2);
             ScheduledBackups backupsOfB = ScheduledBackups.start(b, root, "node-1", shared, Duration.ofHours(1), 2)) {
            // a backup of A written before names carried the store, and a file of that pattern that is no backup
            bump(a, root);
            Path legacy = shared.resolve("backup-20200101T000000000Z-1.rsbackup");
            BackupFile.write(legacy, RegistrySnapshot.take(a, root), a.uri(), "scheduled backup on node node-1");
            Path foreign = Files.writeString(shared.resolve("backup-20200101T000000000Z-2.rsbackup"), "not a backup");
            List<Path> ofA = new ArrayList<>();
            List<Path> ofB = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                bump(a, root);
                ofA.add(backupsOfA.runOnce());
                bump(b, root);
                ofB.add(backupsOfB.runOnce());
            }
            try (Stream<Path> files = Files.list(shared)) {
                assertThat(files.toList()).containsExactlyInAnyOrder(foreign, ofA.get(1), ofA.get(2), ofB.get(1), ofB.get(2));
            }
            assertThat(BackupFile.read(ofB.get(2)).source()).isEqualTo(b.uri());
        }
    }

    private static void bump(ClusterRegistry registry, RegistryPath root) {
        registry.commit(WriteBatch.builder().setValue(root.child("Entities"), "a", RegistryValue.qword(registry.currentSequence())).build());
    }
}
