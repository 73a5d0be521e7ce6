package dev.reliablestore.spring.boot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The JTA settings of every context of this test JVM: Narayana reads its configuration once per JVM,
 * so each test's context must start NarayanaJta with the same object store and node.
 */
final class SharedNarayana {

    static final Path OBJECT_STORE = objectStore();

    private SharedNarayana() {
    }

    static String[] properties() {
        return new String[] {"reliablestore.jta.object-store-directory=" + OBJECT_STORE, "reliablestore.jta.node-identifier=starter-test"};
    }

    private static Path objectStore() {
        try {
            Path dir = Files.createTempDirectory("narayana-starter-test");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at JVM exit: the directory is in the system's temp space
        }
    }
}
