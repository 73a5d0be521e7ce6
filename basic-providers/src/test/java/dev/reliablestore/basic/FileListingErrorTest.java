package dev.reliablestore.basic;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A directory listing that fails part way (an I/O error of the disk while reading it) is a retryable
 * {@link StoreUnavailableException} like any other I/O error. The JDK's directory iterator throws it
 * as an unchecked {@link DirectoryIteratorException}; the listing here is made to fail the same way
 * through {@link FileStoreFactory#directoryOpener}, since a real disk cannot be made to fail in a test.
 */
class FileListingErrorTest {

    record Thing(String name) {
    }

    @TempDir
    Path dir;

    @AfterEach
    void realListings() {
        FileStoreFactory.directoryOpener = Files::newDirectoryStream;
    }

    private StoreFactory open() {
        return Persistence.openFactory("file", Map.of("directory", dir.toString()));
    }

    /** Listings of {@code failing} yield {@code after} entries, then fail as the JDK's iterator does when reading fails. */
    private static void failListingsOf(Path failing, int after) {
        FileStoreFactory.directoryOpener = (d, filter) -> {
            DirectoryStream<Path> real = Files.newDirectoryStream(d, filter);
            if (!d.toAbsolutePath().normalize().equals(failing.toAbsolutePath().normalize())) {
                return real;
            }
            return new DirectoryStream<>() {
                @Override
                public Iterator<Path> iterator() {
                    Iterator<Path> entries = real.iterator();
                    return new Iterator<>() {
                        int given;

                        @Override
                        public boolean hasNext() {
                            if (given == after) {
                                // no path in it: the provider's own message must name the folder
                                throw new DirectoryIteratorException(new IOException("injected: reading failed"));
                            }
                            return entries.hasNext();
                        }

                        @Override
                        public Path next() {
                            given++;
                            return entries.next();
                        }
                    };
                }

                @Override
                public void close() throws IOException {
                    real.close();
                }
            };
        };
    }

    private static void assertUnavailable(Throwable failed, Path listed) {
        assertThat(failed).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("cannot read the listing of " + listed + ":")
                .hasMessageContaining("injected: reading failed").hasRootCauseInstanceOf(IOException.class);
        assertThat(((PersistenceException) failed).isRetryable()).isTrue();
        assertThat(((PersistenceException) failed).outcomeUnknown()).isFalse();
    }

    @Test
    void readsAndAClearWhoseListingFailsAreRetryable() throws Exception {
        Path typeDir = dir.resolve("!thing");
        try (StoreFactory f = open()) {
            EntityStore<Thing> things = f.store(Thing.class);
            for (int i = 0; i < 5; i++) {
                things.save("a" + i, new Thing("x" + i));
            }
            failListingsOf(typeDir, 2);
            List<Supplier<Object>> calls = List.of(things::getAll, () -> things.getAll(t -> true), things::count,
                    () -> things.count(t -> true), things::clear);
            for (Supplier<Object> call : calls) {
                assertUnavailable(catchThrowable(call::get), typeDir);
            }
            Throwable async = catchThrowable(() -> things.countAsync().get(60, TimeUnit.SECONDS));
            assertThat(async).isInstanceOf(ExecutionException.class);
            assertUnavailable(async.getCause(), typeDir);

            realListings();
            assertThat(things.count()).as("the failed clear removed nothing").isEqualTo(5);
            assertThat(things.getAll()).hasSize(5);
        }
    }

    /** Recovery on open lists {@code .batches}, the directory and each type folder. */
    @ParameterizedTest
    @ValueSource(strings = {"", FileStoreFactory.BATCH_DIR, "!thing"})
    void anOpenWhoseRecoveryCannotListAFolderIsRetryable(String folder) throws Exception {
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("x"));
        }
        Files.writeString(dir.resolve(FileStoreFactory.BATCH_DIR).resolve("b1.journal.tmp"), "{\"form"); // something to list
        failListingsOf(dir.resolve(folder), 0);
        assertUnavailable(catchThrowable(this::open), dir.resolve(folder));

        realListings();
        try (StoreFactory f = open()) { // the failed open released the directory
            assertThat(f.store(Thing.class).get("a")).isPresent();
        }
    }

    /** A type folder from before codec ids has no {@code .codec}: whether it holds documents is read from its listing. */
    @Test
    void aStoreWhoseCodecMustBeInferredFromAFailingListingIsRetryable() throws Exception {
        Path typeDir = dir.resolve("!thing");
        try (StoreFactory f = open()) {
            f.store(Thing.class).save("a", new Thing("x"));
        }
        Files.delete(typeDir.resolve(FileStoreFactory.CODEC_FILE));
        try (StoreFactory f = open()) {
            failListingsOf(typeDir, 0);
            assertUnavailable(catchThrowable(() -> f.store(Thing.class)), typeDir);
            realListings();
            assertThat(f.store(Thing.class).get("a")).isPresent();
        }
    }
}
