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
            try (ScheduledBackups backups = ScheduledBackups.startAfter(failing, root, "node-1", dir, Duration.ofHours(1), 3, Duration.ofHours(1))) {
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
             ScheduledBackups backupsOfA = ScheduledBackups.startAfter(a, root, "node-1", shared, Duration.ofHours(1), 2, Duration.ofHours(1));
             ScheduledBackups backupsOfB = ScheduledBackups.startAfter(b, root, "node-1", shared, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            // a backup of A written before names carried the store (its sequence, 8 digits, looks like a tag), and a file of that
            // pattern that is no backup
            bump(a, root);
            Path legacy = shared.resolve("backup-20200101T000000000Z-12345678.rsbackup");
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

    /**
     * The first run is due an interval after this store's newest backup (at once without one): a
     * process restarted more often than the interval (a nightly deploy, backups every day) wrote none.
     */
    @Test
    void theFirstRunIsDueAnIntervalAfterTheNewestBackupNotAfterTheOpen() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        Path folder = dir.resolve("backups");
        java.time.Instant now = java.time.Instant.parse("2026-12-07T12:00:00Z");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", folder, Duration.ofHours(1), 3, Duration.ofHours(1))) {
            assertThat(backups.firstDelay(now)).as("no folder yet").isZero();
            Files.createDirectories(folder);
            assertThat(backups.firstDelay(now)).as("no backup yet").isZero();
            bump(registry, root);
            Path twoHoursAgo = folder.resolve("backup-20261207T100000000Z-1.rsbackup");
            BackupFile.write(twoHoursAgo, RegistrySnapshot.take(registry, root), registry.uri(), "scheduled backup on node node-1");
            assertThat(backups.firstDelay(now)).isZero();
            Path tenMinutesAgo = folder.resolve("backup-20261207T115000000Z-2.rsbackup");
            BackupFile.write(tenMinutesAgo, RegistrySnapshot.take(registry, root), registry.uri(), "scheduled backup on node node-1");
            assertThat(backups.firstDelay(now)).isEqualTo(Duration.ofMinutes(50));
            Files.writeString(folder.resolve("backup-20261207T115900000Z-3.rsbackup"), "another store's, or no backup");
            assertThat(backups.firstDelay(now)).as("only this store's count").isEqualTo(Duration.ofMinutes(50));
            BackupFile.write(folder.resolve("backup-29991231T000000000Z-4.rsbackup"), RegistrySnapshot.take(registry, root), registry.uri(), "x");
            assertThat(backups.firstDelay(now)).as("a stamp from a clock that ran ahead is no reason to wait").isEqualTo(Duration.ofMinutes(50));
        }
    }

    /** Opened when its newest backup is older than an interval, a store backs up at once. */
    @Test
    void aStoreWhoseNewestBackupIsOlderThanAnIntervalBacksUpAtOpen() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        Path folder = Files.createDirectories(dir.resolve("backups"));
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of())) {
            bump(registry, root);
            java.time.Instant twoHoursAgo = java.time.Instant.now().minus(Duration.ofHours(2));
            Path old = folder.resolve("backup-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
                    .withZone(java.time.ZoneOffset.UTC).format(twoHoursAgo) + "-1.rsbackup");
            BackupFile.write(old, RegistrySnapshot.take(registry, root), registry.uri(), "scheduled backup on node node-1");
            ScheduledBackups backups = ScheduledBackups.start(registry, root, "node-1", folder, Duration.ofHours(1), 5);
            try {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
                    try (Stream<Path> files = Files.list(folder)) {
                        return files.filter(p -> p.getFileName().toString().endsWith(".rsbackup")).count() == 2;
                    }
                });
            } finally {
                backups.close();
            }
        }
    }

    /**
     * A backup stamped in the future (a clock that ran ahead) counts as the oldest: retention kept it
     * and deleted the fresh backups before it, so only the newest one survived each run.
     */
    @Test
    void aBackupStampedInTheFutureIsPrunedBeforeTheFreshOnes() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", dir, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            bump(registry, root);
            Path future = dir.resolve("backup-29991231T235959999Z-1.rsbackup");
            BackupFile.write(future, RegistrySnapshot.take(registry, root), registry.uri(), "scheduled backup on node node-1");
            List<Path> written = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                bump(registry, root);
                written.add(backups.runOnce());
            }
            assertThat(written.get(1)).as("the run before the newest").exists();
            assertThat(written.get(2)).exists();
            assertThat(future).doesNotExist();
        }
    }

    /**
     * Another node's backup stamped a little after the one just written (its clock a little ahead) is
     * ordered as it is: only a stamp more than an interval ahead counts as the oldest.
     */
    @Test
    void aBackupOfAnotherNodeWhoseClockIsALittleAheadIsKeptInOrder() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", dir, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            bump(registry, root);
            Path first = backups.runOnce();
            String soon = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(java.time.ZoneOffset.UTC)
                    .format(java.time.Instant.now().plus(Duration.ofMinutes(1)));
            Path ahead = dir.resolve("backup-" + soon + "-99.rsbackup");
            BackupFile.write(ahead, RegistrySnapshot.take(registry, root), registry.uri(), "scheduled backup on node node-2");
            bump(registry, root);
            Path second = backups.runOnce();
            assertThat(first).as("the oldest").doesNotExist();
            assertThat(ahead).exists();
            assertThat(second).exists();
        }
    }

    /**
     * A temporary file a run killed while writing left behind is deleted once older than an interval (an
     * hour at least) by its name and its file time; one younger by either is kept.
     */
    @Test
    void leftoversOfARunKilledWhileWritingAreDeleted() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", dir, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            bump(registry, root);
            Path written = backups.runOnce();
            String tag = written.getFileName().toString().replaceAll(".*-([0-9a-f]{8})\\.rsbackup$", "$1");
            Path old = Files.writeString(dir.resolve(".backup-20200101T000000000Z-5-" + tag + ".rsbackup.123.tmp"), "half a backup");
            Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(2))));
            String now = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(java.time.ZoneOffset.UTC)
                    .format(java.time.Instant.now());
            Path young = Files.writeString(dir.resolve(".backup-" + now + "-6-" + tag + ".rsbackup.456.tmp"), "being written");
            // its file time old (a server clock behind): its name says it was begun now
            Files.setLastModifiedTime(young, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(2))));
            // begun long ago by its name, but its file time is recent (a shared folder's server clock, late write-back)
            Path recentlyWritten = Files.writeString(dir.resolve(".backup-20200101T000000000Z-8-" + tag + ".rsbackup.321.tmp"), "still written");
            Path othersOld = Files.writeString(dir.resolve(".backup-20200101T000000000Z-7-0badc0de.rsbackup.789.tmp"), "another store's");
            Files.setLastModifiedTime(othersOld, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(2))));
            bump(registry, root);
            backups.runOnce();
            assertThat(old).doesNotExist();
            assertThat(young).exists();
            assertThat(recentlyWritten).exists();
            assertThat(othersOld).exists();
        }
    }

    /** On a Windows cluster the owner's node name may differ in case from the local one: it is still this node. */
    @Test
    void onAWindowsClusterThePrimaryIsMatchedWithoutCase() {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of())) {
            bump(real, root);
            ClusterRegistry cluster = (ClusterRegistry) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("status")) {
                            return new dev.reliablestore.registry.ClusterStatus("clusapi", "NODE1", java.util.Optional.of("node1"), List.of());
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (ScheduledBackups backups = ScheduledBackups.startAfter(cluster, root, "NODE1", dir, Duration.ofHours(1), 2, Duration.ofHours(1))) {
                assertThat(backups.runOnce()).isNotNull().exists();
            }
        }
    }

    /**
     * A store a restore has marked as unfinished (Configuration/RestoreInProgress) holds part of a backup: a factory
     * opened before the restore skips its scheduled runs while the mark is there (its retention prunes nothing), and
     * backs up again once it is gone.
     */
    @Test
    void aStoreMarkedAsAnUnfinishedRestoreIsNotBackedUp() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", dir, Duration.ofHours(1), 1, Duration.ofHours(1))) {
            bump(registry, root);
            Path complete = backups.runOnce();
            assertThat(complete).isNotNull().exists();
            registry.commit(WriteBatch.builder().setValue(root.child("Configuration"), "RestoreInProgress",
                    RegistryValue.sz("{\"started\":\"2026-01-02T03:04:05Z\",\"host\":\"ops-1\"}")).build());
            bump(registry, root);
            assertThat(backups.runOnce()).as("a run while the restore is unfinished").isNull();
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.filter(p -> p.getFileName().toString().endsWith(".rsbackup")).toList()).containsExactly(complete);
            }
            registry.commit(WriteBatch.builder().deleteValue(root.child("Configuration"), "RestoreInProgress").build());
            assertThat(backups.runOnce()).as("once the restore finished").isNotNull().exists();
        }
    }

    /**
     * A store created anew at the same URI and root (a volume not mounted when the application started, whose empty
     * directory got a fresh layout and key salt) counts its own backups: it must not prune the old store's, or after
     * {@code backupRetention} runs only backups of the empty store would be left.
     */
    @Test
    void aStoreCreatedAnewAtTheSameUriAndRootLeavesTheOldStoresBackups() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        Path folder = dir.resolve("backups");
        Path data = dir.resolve("registry");
        List<Path> ofOld = new ArrayList<>();
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + data, Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", folder, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            salt(registry, root, (byte) 1);
            for (int run = 0; run < 2; run++) {
                bump(registry, root);
                ofOld.add(backups.runOnce());
            }
        }
        deleteTree(data);
        List<Path> ofNew = new ArrayList<>();
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + data, Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", folder, Duration.ofHours(1), 2, Duration.ofHours(1))) {
            salt(registry, root, (byte) 2);
            for (int run = 0; run < 3; run++) {
                bump(registry, root);
                ofNew.add(backups.runOnce());
            }
        }
        try (Stream<Path> files = Files.list(folder)) {
            assertThat(files.toList()).as("the old store's two, the new store's newest two")
                    .containsExactlyInAnyOrder(ofOld.get(0), ofOld.get(1), ofNew.get(1), ofNew.get(2));
        }
        assertThat(BackupFile.readMetadata(ofNew.get(2)).path("storeId").asText())
                .isNotEqualTo(BackupFile.readMetadata(ofOld.get(1)).path("storeId").asText()).hasSize(16);
    }

    /**
     * A backup larger than a restore can load is no backup: the run fails, writes nothing and prunes nothing. It still
     * deletes what a killed run left behind first (on a full disk, that leftover is what keeps every later run from fitting).
     */
    @Test
    void aBackupTooLargeToRestoreFailsTheRunWhichPrunesNothingButDeletesALeftover() throws Exception {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry registry = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of());
             ScheduledBackups backups = ScheduledBackups.startAfter(registry, root, "node-1", dir, Duration.ofHours(1), 1, Duration.ofHours(1))) {
            bump(registry, root);
            Path good = backups.runOnce();
            assertThat(good).isNotNull().exists();
            String tag = good.getFileName().toString().replaceAll(".*-([0-9a-f]{8})\\.rsbackup$", "$1");
            Path leftover = Files.writeString(dir.resolve(".backup-20200101T000000000Z-5-" + tag + ".rsbackup.123.tmp"), "half a backup");
            Files.setLastModifiedTime(leftover, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(2))));
            backups.maxFileBytes = 64;
            bump(registry, root);
            assertThat(backups.runOnce()).as("the run whose backup could not be restored").isNull();
            assertThat(leftover).doesNotExist();
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.filter(p -> p.getFileName().toString().contains(".rsbackup")).toList()).containsExactly(good);
            }
        }
    }

    private static void salt(ClusterRegistry registry, RegistryPath root, byte fill) {
        byte[] salt = new byte[16];
        java.util.Arrays.fill(salt, fill);
        registry.commit(WriteBatch.builder().setValue(root.child("Configuration"), "KeySalt", RegistryValue.binary(salt)).build());
    }

    private static void deleteTree(Path top) throws java.io.IOException {
        try (Stream<Path> all = Files.walk(top)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void bump(ClusterRegistry registry, RegistryPath root) {
        registry.commit(WriteBatch.builder().setValue(root.child("Entities"), "a", RegistryValue.qword(registry.currentSequence())).build());
    }
}
