package dev.reliablestore.basic;

import dev.reliablestore.spi.DurableFiles;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** What the file provider promises beyond the TCK: configuration, layout, names, recovery, the lock. */
class FileProviderTest {

    record Thing(String name) {
    }

    @TempDir
    Path dir;

    private StoreFactory open() {
        return Persistence.openFactory("file", Map.of("directory", dir.toString()));
    }

    @AfterEach
    void realFileChecks() {
        FileStoreFactory.fileStat = file -> Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
    }

    @Test
    void configurationErrorsNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of())).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("needs the option directory");
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("directory", dir.toString(), "directry", "x")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("\"directry\"").hasMessageContaining("did you mean \"directory\"");
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("directory", dir.toString(), "maxEntitySize", "0")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("option maxEntitySize of the file provider: 0 is out of range 1 .. 1GiB");
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("directory", dir.toString(), "maxEntitySize", "lots")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("\"lots\"");
        for (String blank : new String[] {"", "  "}) { // not the working directory, wherever the process started
            assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("directory", blank))).isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("directory").hasMessageContaining("blank");
        }
        assertThatThrownBy(() -> Persistence.openFactory("memory", Map.of("memory.size", "1")))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("memory.size");
    }

    @Test
    void theOldSpellingsStillWorkForOneRelease() {
        try (StoreFactory f = Persistence.openFactory("file", Map.of("file.directory", dir.toString(), "file.max-entity-bytes", "64",
                "file.upgrade-format", "false"))) {
            assertThatThrownBy(() -> f.store(String.class).save("big", "x".repeat(100))).isInstanceOf(EntityTooLargeException.class);
        }
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("file.directory", dir.toString(), "directory", dir.toString())))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("given twice");
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        assertThatThrownBy(() -> Persistence.openFactory("file", Map.of("directory", file.toString())))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining(file.toString());
    }

    @Test
    void oneDocumentPerEntityInAFolderPerTypeWithItsVersion() throws Exception {
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("Order-7", new Thing("a"));
            things.save("Order-7", new Thing("b"));
        }
        Path file = dir.resolve("!thing").resolve("!order-7.json");
        String json = Files.readString(file);
        assertThat(json).contains("\"format\":1", "\"type\":\"Thing\"", "\"id\":\"Order-7\"", "\"version\":2",
                "\"entity\":{\"name\":\"b\"}");
    }

    @Test
    void fileNamesAreSafeReversibleAndCaseDistinct() {
        List<String> ids = List.of("x", "Case", "case", ".", "..", ".hidden", "dot.", "a.b", "CON", "con", "nul.txt",
                "a:b*c?d\"e<f>g|h", "100%", "!bang", "~t", "é", "漢字", "😀", "\ud800lone", "lone\udc00", " ", "A".repeat(99));
        for (String id : ids) {
            String name = FileNames.encode(id);
            assertThat(name).as(id).matches("[a-z0-9._!%~A-F-]+").doesNotStartWith(".").hasSizeLessThanOrEqualTo(200);
            assertThat(FileNames.decode(name)).as(name).isEqualTo(id);
            for (String other : ids) {
                if (!other.equals(id)) {
                    assertThat(name.equalsIgnoreCase(FileNames.encode(other))).as("%s vs %s", id, other).isFalse();
                }
            }
        }
        assertThat(FileNames.encode("con")).isEqualTo("%63on");
        assertThat(FileNames.encode("Ab c")).isEqualTo("!ab%20c");
        String longName = FileNames.encode("é".repeat(255));
        assertThat(longName).startsWith("~").hasSize(65);
        assertThat(FileNames.decode(longName)).isNull();
    }

    @Test
    void unpairedSurrogatesAndLongUnicodeIdsWork() {
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            for (String id : List.of("\ud800", "\udc00x", "é".repeat(255))) {
                things.save(id, new Thing(id));
                assertThat(things.get(id).orElseThrow().value().name()).isEqualTo(id);
            }
            assertThat(things.count()).isEqualTo(3);
        }
    }

    @Test
    void leftoversOfInterruptedWritesAreRemovedOnOpen() throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("kept", new Thing("k"));
        }
        Path typeDir = dir.resolve("!thing");
        Files.writeString(typeDir.resolve(".tmp-123"), "half a docu");
        Files.writeString(typeDir.resolve(".batch-abc-0"), "{}");
        Files.writeString(dir.resolve(".batches").resolve("abc.journal.tmp"), "{\"form");
        try (StoreFactory f = open()) {
            assertThat(f.store(Thing.class).getAll()).extracting(v -> v.value().name()).containsExactly("k");
        }
        try (var files = Files.list(typeDir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(FileStoreFactory.CODEC_FILE, "kept.json");
        }
        assertThat(dir.resolve(".batches")).isEmptyDirectory();
    }

    @Test
    void aCommittedBatchIsRolledForwardOnOpen() throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("old"));
        }
        Path typeDir = dir.resolve("!thing");
        // what a crash between the journal commit and the renames leaves: one rename done, one not
        Files.writeString(typeDir.resolve("b.json"), doc("b", 1, "new-b"));
        Files.writeString(typeDir.resolve(".batch-x1-0"), doc("a", 2, "new-a"));
        Files.writeString(dir.resolve(".batches").resolve("x1.journal"), "{\"format\":1,\"entries\":["
                + "{\"dir\":\"!thing\",\"temp\":\".batch-x1-0\",\"target\":\"a.json\"},"
                + "{\"dir\":\"!thing\",\"temp\":\".batch-x1-1\",\"target\":\"b.json\"}]}");
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.get("a").orElseThrow().value().name()).isEqualTo("new-a");
            assertThat(things.get("a").orElseThrow().version()).isEqualTo(2);
            assertThat(things.get("b").orElseThrow().value().name()).isEqualTo("new-b");
        }
        assertThat(dir.resolve(".batches")).isEmptyDirectory();
    }

    private static String doc(String id, long version, String name) {
        // a directory created since checksums existed holds only documents that end with their CRC32C
        return new String(DocumentChecksum.append(("{\"format\":1,\"type\":\"Thing\",\"id\":\"" + id + "\",\"version\":" + version
                + ",\"entity\":{\"name\":\"" + name + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void aCorruptDocumentIsReportedAndLeftAlone() throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("x"));
        }
        Path file = dir.resolve("!thing").resolve("a.json");
        Files.writeString(file, "{\"format\":1,\"type\":\"Thing\",\"id\":\"a\",\"vers");
        try (StoreFactory f = open()) {
            assertThatThrownBy(() -> f.store(Thing.class).get("a")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining(file.toString());
            Files.writeString(file, doc("b", 1, "moved"));
            assertThatThrownBy(() -> f.store(Thing.class).get("a")).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining("\"b\"");
            // listed, the misplaced copy is reported too, not returned as a second "b"
            f.store(Thing.class).save("b", new Thing("y"));
            assertThatThrownBy(() -> f.store(Thing.class).getAll()).isInstanceOf(DataIntegrityException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("\"b\"");
            f.store(Thing.class).delete("b");
        }
        assertThat(Files.readString(file)).isEqualTo(doc("b", 1, "moved"));
    }

    @Test
    void oneOpenerPerDirectoryInThisProcess() {
        try (StoreFactory f = open()) {
            assertThatThrownBy(this::open).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("already open in this process").hasMessageContaining(dir.toString());
            assertThat(f.providerName()).isEqualTo("file");
        }
        open().close(); // released on close
    }

    @Test
    void anotherProcessIsRefusedWhileTheDirectoryIsOpen() throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("x"));
            // a refused second open here must not unlock the directory for other processes (closing any
            // descriptor of a file drops the process's record locks on it)
            assertThatThrownBy(this::open).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("already open in this process");
            assertThat(openInAnotherProcess()).contains("StoreUnavailableException", "in use by another process",
                    "pid " + ProcessHandle.current().pid()).endsWith("exit 3");
        }
    }

    /**
     * Other code of this process (a factory of another class loader, the application) holding the
     * lock file is refused too, and the refusal must leave that lock in place for other processes.
     */
    @Test
    void aRefusedOpenWhileOtherCodeOfThisProcessHoldsTheLockLeavesItHeld() throws Exception {
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(dir.resolve(FileStoreFactory.LOCK_FILE),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = channel.lock()) {
            long descriptors = openDescriptors();
            for (int attempt = 0; attempt < 20; attempt++) {
                assertThatThrownBy(this::open).isInstanceOf(StoreUnavailableException.class)
                        .hasMessageContaining("other code in this process holds a lock on it");
            }
            assertThat(openDescriptors()).as("descriptors after 20 refusals (one parked, reused)").isLessThanOrEqualTo(descriptors + 3);
            assertThat(held.isValid()).isTrue();
            assertThat(openInAnotherProcess()).contains("in use by another process").endsWith("exit 3");
        }
        open().close(); // once that code let go
    }

    /** This process's open file descriptors (Linux). */
    private static long openDescriptors() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "counts descriptors in /proc");
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** What a child JVM opening the directory prints, and its exit code ({@code exit 3}: refused). */
    private String openInAnotherProcess() throws Exception {
        Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), FileLockProbe.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        try {
            String output = new String(other.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return output.strip() + "\nexit " + other.exitValue();
        } finally {
            other.destroyForcibly();
            other.waitFor();
        }
    }

    /**
     * A clear that fails after removing some documents must not read as "nothing removed": a caller
     * that takes a failed write for one that did not happen would otherwise act on data that is gone.
     * A non-empty directory where a document should be makes one delete fail wherever the listing
     * puts it; the error's {@code outcomeUnknown()} must say whether anything went before it. The
     * listing's order is the file system's, so blockers of other names are tried until one comes
     * after some documents (the first one does on most file systems).
     */
    @Test
    void aClearThatFailsPartWaySaysItsOutcomeIsUnknown() throws Exception {
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            Path typeDir = dir.resolve("!thing");
            boolean partWay = false;
            for (int attempt = 0; attempt < 10 && !partWay; attempt++) {
                things.save("a0", new Thing("x"));
                Path blocker = Files.createDirectory(typeDir.resolve("blocker" + attempt + ".json"));
                Files.writeString(blocker.resolve("inside"), "x");
                for (int i = 1; i < 20; i++) {
                    things.save("a" + i, new Thing("x"));
                }
                StoreUnavailableException failed = (StoreUnavailableException) catchThrowable(things::clear);
                assertThat(failed).isNotNull();
                long left = 0;
                for (int i = 0; i < 20; i++) {
                    left += things.exists("a" + i) ? 1 : 0;
                }
                assertThat(failed.outcomeUnknown()).as("%s documents of 20 left: %s", left, failed.getMessage()).isEqualTo(left < 20);
                partWay = left < 20;
                if (partWay) {
                    // what went is gone for readers: it is flushed before the error, so a crash does not bring it back
                    assertThat(failed).hasMessageContaining("clear removed " + (20 - left) + " Thing entities")
                            .hasMessageContaining("the others are still there")
                            .hasMessageContaining("the removals are flushed to the disk");
                }
                Files.delete(blocker.resolve("inside"));
                Files.delete(blocker);
            }
            assertThat(partWay).as("a blocker listed after some documents").isTrue();
        }
    }

    /**
     * A batch past its commit point that could not be applied is finished by the next open; a write
     * of one of its entities before that would be overwritten then, so writes stop until reopening.
     */
    @Test
    void aBatchCommittedButNotAppliedStopsWritesUntilTheDirectoryIsReopened() throws Exception {
        Map<String, Thing> batch = new LinkedHashMap<>();
        batch.put("a", new Thing("new-a"));
        batch.put("b", new Thing("new-b"));
        batch.put("c", new Thing("new-c"));
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("a", new Thing("old-a"));
            FileStoreFactory files = (FileStoreFactory) f;
            AtomicInteger renames = new AtomicInteger();
            files.rollForwardRename = (temp, target) -> {
                if (renames.incrementAndGet() == 2) {
                    throw new IOException("injected: the second rename fails");
                }
                DurableFiles.rename(temp, target);
            };
            Throwable failed = catchThrowable(() -> things.saveBatch(batch));
            files.rollForwardRename = DurableFiles::rename;
            assertThat(failed).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("is committed").hasMessageContaining("injected").hasMessageContaining("refuses writes");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
            assertThatThrownBy(() -> things.save("b", new Thing("later"))).hasMessageContaining("stopped accepting writes")
                    .hasMessageContaining("close the factory and open it again");
            assertThatThrownBy(things::clear).hasMessageContaining("stopped accepting writes");
            assertThat(things.get("a")).as("reads go on").isPresent();
        }
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.getAll().stream().map(v -> v.value().name())).containsExactlyInAnyOrder("new-a", "new-b", "new-c");
            assertThat(things.save("b", new Thing("later"))).isEqualTo(2);
        }
    }

    /**
     * A batch whose journal was renamed into place but whose folder could not be flushed is not
     * committed yet: the next open finishes it only if the rename is still there, which a crash of
     * the machine or a power loss before then can prevent, also after the factory is closed (closing
     * flushes nothing). The error says so, rather than promising the batch; both outcomes are played
     * here, from copies of what the failure left.
     */
    @Test
    void aBatchWhoseJournalCannotBeFlushedSaysAMachineCrashMayLoseIt(@TempDir Path powerLoss) throws Exception {
        Map<String, Thing> batch = new LinkedHashMap<>();
        batch.put("a", new Thing("new-a"));
        batch.put("b", new Thing("new-b"));
        Path journal;
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("a", new Thing("old-a"));
            FileStoreFactory files = (FileStoreFactory) f;
            files.journalFlush = d -> {
                throw new IOException("injected: flushing " + d + " fails");
            };
            Throwable failed = catchThrowable(() -> things.saveBatch(batch));
            files.journalFlush = DurableFiles::syncDirectory;
            assertThat(failed).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("may or may not happen")
                    .hasMessageContaining("was renamed into place but its directory could not be flushed")
                    .hasMessageContaining("injected")
                    .hasMessageContaining("closing this factory or a crash of this process does not undo it, but nothing flushes it"
                            + " before that open (closing does not)")
                    .hasMessageContaining("a crash of the machine or a power loss before the next open may take it, and the batch is"
                            + " then lost")
                    .hasMessageNotContaining("after this factory is closed or this process crashes, it is")
                    .hasMessageContaining("read the batch's entities to learn whether it happened")
                    .hasMessageNotContaining("is committed");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
            assertThat(((PersistenceException) failed).isRetryable()).isFalse();
            assertThatThrownBy(() -> things.save("b", new Thing("later"))).hasMessageContaining("stopped accepting writes")
                    .hasMessageContaining("renamed into place but not flushed");
            try (var journals = Files.list(dir.resolve(FileStoreFactory.BATCH_DIR))) {
                journal = journals.collect(java.util.stream.Collectors.toList()).get(0);
            }
        }
        // a power loss before the flush may take the rename: the disk then holds the temporary files and no journal
        try (var files = Files.walk(dir)) {
            for (Path p : files.collect(java.util.stream.Collectors.toList())) {
                Path copy = powerLoss.resolve(dir.relativize(p).toString());
                if (!copy.equals(powerLoss)) {
                    Files.copy(p, copy);
                }
            }
        }
        Files.delete(powerLoss.resolve(dir.relativize(journal).toString()));
        try (StoreFactory f = Persistence.openFactory("file", Map.of("directory", powerLoss.toString()))) {
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.getAll().stream().map(v -> v.value().name())).as("lost").containsExactly("old-a");
        }
        try (StoreFactory f = open()) { // no machine crash before this open: the rename is still there
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.getAll().stream().map(v -> v.value().name())).containsExactlyInAnyOrder("new-a", "new-b");
        }
    }

    /**
     * A batch whose document write fails has not reached its journal: it did not happen, whatever a
     * check for the journal says, so the error is a plain retryable one and writes go on. The check
     * is made to fail too, as on a failing disk, where whether the journal is there cannot be told;
     * only once the journal's step was reached does that make the batch's outcome unknown.
     */
    @Test
    void aBatchThatFailsBeforeItsJournalDidNotHappenEvenWhenTheJournalCannotBeChecked() throws Exception {
        Map<String, Thing> batch = new LinkedHashMap<>();
        batch.put("a", new Thing("new-a"));
        batch.put("b", new Thing("new-b"));
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("a", new Thing("old-a"));
            FileStoreFactory files = (FileStoreFactory) f;
            FileStoreFactory.FileStat realStat = FileStoreFactory.fileStat;
            AtomicInteger writes = new AtomicInteger();
            files.batchDocumentWrite = (file, bytes) -> {
                if (writes.incrementAndGet() == 2) {
                    throw new IOException("injected: writing the second document fails");
                }
                DurableFiles.writeNew(file, bytes);
            };
            FileStoreFactory.fileStat = file -> {
                if (file.startsWith(dir)) {
                    throw new IOException("injected: checking " + file + " fails");
                }
                return realStat.stat(file);
            };
            Throwable failed = catchThrowable(() -> things.saveBatch(batch));
            files.batchDocumentWrite = DurableFiles::writeNew;
            assertThat(failed).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("injected: writing the second document fails")
                    .hasMessageNotContaining("may or may not").hasMessageNotContaining("renamed");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isFalse();
            assertThat(((PersistenceException) failed).isRetryable()).isTrue();
            assertThat(things.save("b", new Thing("later"))).as("writes go on").isEqualTo(1);
            assertThat(things.get("a").orElseThrow().value().name()).isEqualTo("old-a");
            try (var left = Files.list(dir.resolve("!thing"))) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(FileStoreFactory.BATCH_TEMP_PREFIX));
            }
            assertThat(dir.resolve(FileStoreFactory.BATCH_DIR)).isEmptyDirectory();

            // past the documents, a failure whose journal cannot be checked may have renamed it: that is the unknown outcome
            files.journalFlush = d -> {
                throw new IOException("injected: flushing " + d + " fails");
            };
            Throwable unknown = catchThrowable(() -> things.saveBatch(batch));
            files.journalFlush = DurableFiles::syncDirectory;
            FileStoreFactory.fileStat = realStat;
            assertThat(unknown).isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("may or may not happen")
                    .hasMessageContaining("may have been renamed into place (whether it is there cannot be told)");
            assertThat(((PersistenceException) unknown).outcomeUnknown()).isTrue();
            // the refusal says no more than is known: the journal may never have been renamed
            assertThatThrownBy(() -> things.save("b", new Thing("again"))).hasMessageContaining("stopped accepting writes")
                    .hasMessageContaining("whose journal").hasMessageContaining("may have been renamed into place")
                    .hasMessageNotContaining("was renamed into place");
        }
        try (StoreFactory f = open()) { // the journal was there after all: the second batch happens
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.getAll().stream().map(v -> v.value().name())).containsExactlyInAnyOrder("new-a", "new-b");
        }
    }

    /** Child process of {@link #openInAnotherProcess}: tries to open the directory. */
    public static final class FileLockProbe {
        public static void main(String[] args) {
            try (StoreFactory f = Persistence.openFactory("file", Map.of("directory", args[0]))) {
                System.out.println("opened by " + f.providerName());
                System.exit(0);
            } catch (StoreUnavailableException e) {
                System.out.println(e);
                System.exit(3);
            }
        }
    }
}
