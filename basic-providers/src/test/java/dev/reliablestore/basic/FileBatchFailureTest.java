package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.spi.DurableFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A batch past its journal's rename is all or nothing only if nothing that goes wrong then is taken
 * for success: a check of a temporary file that fails (an I/O error of the disk, made here through
 * {@link FileStoreFactory#fileStat}) is not "already renamed", and an {@link Error} stops writes like
 * an exception does.
 */
class FileBatchFailureTest {

    record Thing(String name) {
    }

    @TempDir
    Path dir;

    @AfterEach
    void realFileChecks() {
        FileStoreFactory.fileStat = file -> Files.readAttributes(file, BasicFileAttributes.class);
    }

    private StoreFactory open() {
        return Persistence.openFactory("file", Map.of("directory", dir.toString()));
    }

    /** Checks of the batch temporary files of this test's directory whose name ends with {@code suffix} fail. */
    private void failChecksOfTemporaryFilesEndingWith(String suffix) {
        FileStoreFactory.fileStat = file -> {
            String name = file.getFileName().toString();
            if (file.startsWith(dir) && name.startsWith(FileStoreFactory.BATCH_TEMP_PREFIX) && name.endsWith(suffix)) {
                throw new IOException("injected: checking " + file + " fails");
            }
            return Files.readAttributes(file, BasicFileAttributes.class);
        };
    }

    private static Map<String, Thing> batch() {
        Map<String, Thing> batch = new LinkedHashMap<>();
        batch.put("a", new Thing("new-a"));
        batch.put("b", new Thing("new-b"));
        return batch;
    }

    private void assertTheBatchIsCompleteOnTheNextOpen() throws IOException {
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            assertThat(things.getAll().stream().map(v -> v.value().name())).containsExactlyInAnyOrder("new-a", "new-b");
            assertThat(things.get("a").orElseThrow().version()).isEqualTo(2);
            assertThat(things.get("b").orElseThrow().version()).isEqualTo(1);
        }
        assertThat(dir.resolve(FileStoreFactory.BATCH_DIR)).isEmptyDirectory();
        try (var left = Files.list(dir.resolve("!thing"))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(FileStoreFactory.BATCH_TEMP_PREFIX));
        }
    }

    /**
     * Applying a committed batch, a temporary file whose presence cannot be checked may still be to
     * rename: the batch is committed but not applied (writes stop, the journal stays), not saved.
     */
    @Test
    void aBatchWhoseTemporaryFileCannotBeCheckedWhileAppliedIsCommittedButNotApplied() throws Exception {
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("a", new Thing("old-a"));
            failChecksOfTemporaryFilesEndingWith("-1");
            Throwable failed = catchThrowable(() -> things.saveBatch(batch()));
            realFileChecks();
            assertThat(failed).as("a batch with an entity still holding its old value is not saved")
                    .isInstanceOf(PersistenceException.class).isNotInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("is committed").hasMessageContaining("cannot tell whether")
                    .hasMessageContaining("injected").hasMessageContaining("refuses writes");
            assertThat(((PersistenceException) failed).outcomeUnknown()).isTrue();
            assertThat(catchThrowable(() -> things.save("b", new Thing("later")))).hasMessageContaining("stopped accepting writes");
            try (var journals = Files.list(dir.resolve(FileStoreFactory.BATCH_DIR))) {
                assertThat(journals.map(p -> p.getFileName().toString())).singleElement().asString()
                        .endsWith(FileStoreFactory.JOURNAL_SUFFIX);
            }
        }
        assertTheBatchIsCompleteOnTheNextOpen();
    }

    /**
     * Recovery that cannot check a journal's temporary file fails the open and keeps the journal and
     * the file (removing the journal, its cleanup would then delete the file: the batch torn for good),
     * so that a later open completes the batch.
     */
    @Test
    void anOpenThatCannotCheckAJournalsTemporaryFileFailsAndKeepsTheJournalForTheNextOpen() throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("old-a"));
        }
        // what a crash between the journal's commit and the renames leaves
        Path typeDir = dir.resolve("!thing");
        Files.writeString(typeDir.resolve(".batch-x1-0"), doc("a", 2, "new-a"));
        Files.writeString(typeDir.resolve(".batch-x1-1"), doc("b", 1, "new-b"));
        Path journal = dir.resolve(FileStoreFactory.BATCH_DIR).resolve("x1" + FileStoreFactory.JOURNAL_SUFFIX);
        Files.writeString(journal, "{\"format\":1,\"entries\":["
                + "{\"dir\":\"!thing\",\"temp\":\".batch-x1-0\",\"target\":\"a.json\"},"
                + "{\"dir\":\"!thing\",\"temp\":\".batch-x1-1\",\"target\":\"b.json\"}]}");
        failChecksOfTemporaryFilesEndingWith("-1");
        Throwable failed = catchThrowable(() -> open().close());
        realFileChecks();
        assertThat(journal).as("the journal is kept").exists();
        assertThat(typeDir.resolve(".batch-x1-1")).as("its temporary file is kept").exists();
        assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining(dir.toString())
                .hasMessageContaining("cannot tell whether").hasMessageContaining(".batch-x1-1").hasMessageContaining("injected");
        assertTheBatchIsCompleteOnTheNextOpen();
    }

    /**
     * An {@link Error} (an OutOfMemoryError, say) once the journal's step was reached stops writes as
     * an exception there does: the batch may happen at the next open, which would overwrite a later
     * write of one of its entities with the batch's (a later save of "a" would take the very version
     * the batch's temporary file holds). Nothing acknowledged is lost.
     */
    @ParameterizedTest
    @ValueSource(strings = {"flushing the journal", "applying the batch"})
    void anErrorPastTheJournalsStepStopsWritesSoNoLaterSaveIsLost(String where) throws Exception {
        AtomicLong acknowledged = new AtomicLong();
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            things.save("a", new Thing("old-a"));
            FileStoreFactory files = (FileStoreFactory) f;
            if (where.equals("flushing the journal")) {
                files.journalFlush = d -> {
                    throw new OutOfMemoryError("injected: " + where);
                };
            } else {
                files.rollForwardRename = (temp, target) -> {
                    throw new OutOfMemoryError("injected: " + where);
                };
            }
            Throwable failed = catchThrowable(() -> things.saveBatch(batch()));
            files.journalFlush = DurableFiles::syncDirectory;
            files.rollForwardRename = DurableFiles::rename;
            assertThat(failed).as("the Error itself, not a wrapper").isInstanceOf(OutOfMemoryError.class).hasMessageContaining("injected");
            Throwable refused = catchThrowable(() -> acknowledged.set(things.save("a", new Thing("later"))));
            if (refused == null) {
                assertThat(things.get("a").orElseThrow().value().name()).isEqualTo("later");
            } else {
                assertThat(refused).isInstanceOf(PersistenceException.class).hasMessageContaining("stopped accepting writes")
                        .hasMessageContaining("OutOfMemoryError").hasMessageContaining("close the factory and open it again");
            }
        }
        try (StoreFactory f = open()) {
            if (acknowledged.get() != 0) {
                assertThat(f.store(Thing.class).get("a").orElseThrow().value().name())
                        .as("the save acknowledged with version " + acknowledged.get() + " is lost").isEqualTo("later");
            }
        }
        assertThat(acknowledged.get()).as("a save over a batch that may still happen is refused").isZero();
        assertTheBatchIsCompleteOnTheNextOpen();
    }

    private static String doc(String id, long version, String name) {
        return new String(DocumentChecksum.append(("{\"format\":1,\"type\":\"Thing\",\"id\":\"" + id + "\",\"version\":" + version
                + ",\"entity\":{\"name\":\"" + name + "\"}").getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }
}
